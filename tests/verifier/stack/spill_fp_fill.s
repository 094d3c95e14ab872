; A spilled frame pointer comes back as a stack pointer that can be written through.
; expect: accept
.prog syscall
        r1 = r10
        r1 += -16
        *(u64 *)(r10 - 8) = r1
        r2 = *(u64 *)(r10 - 8)
        r3 = 7
        *(u64 *)(r2 + 0) = r3
        r0 = 0
        exit
