; A copy of r10 is a stack pointer too.
; expect: accept
.prog syscall
        r1 = r10
        r2 = 9
        *(u64 *)(r1 - 8) = r2
        r0 = *(u64 *)(r1 - 8)
        r0 = 0
        exit
