; A 1-byte load is already in [0,255].
; expect: accept
.prog syscall
        r2 = *(u8 *)(r1 + 0)
        r3 = r10
        r3 += -256
        r3 += r2
        *(u8 *)(r3 + 0) = 0
        r0 = 0
        exit
