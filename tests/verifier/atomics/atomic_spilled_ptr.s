; As root, an atomic add on a slot holding a spilled pointer is allowed: the slot becomes a scalar.
; expect: accept
.prog tc
        *(u64 *)(r10 - 8) = r1
        r2 = 1
        lock *(u64 *)(r10 - 8) += r2
        r0 = 0
        exit
