; tc programs may write the packet inside the proven range.
; expect: accept
.prog tc
        r2 = *(u32 *)(r1 + 80)
        r1 = *(u32 *)(r1 + 76)
        r3 = r1
        r3 += 6
        if r3 > r2 goto out
        *(u8 *)(r1 + 5) = 0
out:
        r0 = 0
        exit
