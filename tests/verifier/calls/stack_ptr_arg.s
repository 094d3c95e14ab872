; Passing a pointer to the caller's stack: the callee writes through it.
; expect: accept
.prog syscall
        r1 = r10
        r1 += -8
        call f
        r0 = *(u64 *)(r10 - 8)
        exit
f:
        r2 = 7
        *(u64 *)(r1 + 0) = r2
        r0 = 0
        exit
