; As root, an atomic add on a stack slot never written is allowed (uninitialised stack reads are).
; expect: accept
.prog syscall
        r1 = 1
        lock *(u64 *)(r10 - 8) += r1
        r0 = 0
        exit
