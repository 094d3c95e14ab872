; A bounded loop walking packet bytes, rechecking data_end each step.
; expect: accept
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r0 = 0
        r4 = 0
loop:
        r3 = r1
        r3 += 1
        if r3 > r2 goto done
        r5 = *(u8 *)(r1 + 0)
        r0 += r5
        r1 = r3
        r4 += 1
        if r4 < 16 goto loop
done:
        r0 = 2
        exit
