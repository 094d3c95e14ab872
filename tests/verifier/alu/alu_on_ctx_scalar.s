; ALU on a scalar read from the context.
; expect: accept
.prog syscall
        r0 = *(u64 *)(r1 + 0)
        r0 *= 3
        r0 ^= 7
        r0 |= 1
        r0 = 0
        exit
