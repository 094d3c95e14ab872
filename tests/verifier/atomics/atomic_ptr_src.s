; As root, an atomic add of a pointer value into the stack is allowed: the slot becomes a scalar.
; expect: accept
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        lock *(u64 *)(r10 - 8) += r10
        r0 = 0
        exit
