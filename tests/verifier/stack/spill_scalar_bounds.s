; A spilled bounded scalar keeps its bounds: fp-16 + [0,7] stays in the stack.
; expect: accept
.prog syscall
        r1 = *(u64 *)(r1 + 0)
        r1 &= 7
        *(u64 *)(r10 - 8) = r1
        r2 = *(u64 *)(r10 - 8)
        r3 = r10
        r3 += -16
        r3 += r2
        *(u8 *)(r3 + 0) = 1
        r0 = 0
        exit
