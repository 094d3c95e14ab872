; Sum the buffer by index: `if r5 >= r2` compares with the length, a constant the verifier knows.
; mem_len: 16
; expect: accept
.prog mem
        r0 = 0
        r5 = 0
loop:
        if r5 >= r2 goto done
        r4 = r1
        r4 += r5
        r4 = *(u8 *)(r4 + 0)
        r0 += r4
        r5 += 1
        goto loop
done:
        exit
