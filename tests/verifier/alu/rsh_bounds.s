; `>>= 56` leaves at most 255: a right shift bounds as well as a mask.
; expect: accept
.prog syscall
        r2 = *(u64 *)(r1 + 0)
        r2 >>= 56
        r3 = r10
        r3 += -256
        r3 += r2
        *(u8 *)(r3 + 0) = 0
        r0 = 0
        exit
