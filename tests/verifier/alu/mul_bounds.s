; [0,15] * 8 is [0,120]: an 8-byte slot index.
; expect: accept
.prog syscall
        r2 = *(u8 *)(r1 + 0)
        r2 &= 15
        r2 *= 8
        r3 = r10
        r3 += -128
        r3 += r2
        r0 = 0
        *(u64 *)(r3 + 0) = r0
        exit
