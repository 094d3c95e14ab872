; A 32-bit atomic fetch-add on the stack.
; expect: accept
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        w1 = 1
        w1 = atomic_fetch_add((u32 *)(r10 - 8), w1)
        r0 = r1
        exit
