; A variable-offset stack read of initialised bytes.
; expect: accept
.prog syscall
        r3 = 0
        *(u64 *)(r10 - 16) = r3
        *(u64 *)(r10 - 8) = r3
        r1 = *(u64 *)(r1 + 0)
        r1 &= 7
        r2 = r10
        r2 += -16
        r2 += r1
        r0 = *(u8 *)(r2 + 0)
        r0 = 0
        exit
