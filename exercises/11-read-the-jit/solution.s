# Return 100 * (the programmer's bounds check) + (the instruction the kernel guarded).
.prog mem
        r0 = 407                # 4: if r4 > r3 (cmp/ja); 7: r0 /= r5 (test/jne before div)
        exit
