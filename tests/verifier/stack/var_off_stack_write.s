; A variable-offset stack write: fp-16 + [0,15] stays inside the stack.
; expect: accept
.prog syscall
        r1 = *(u64 *)(r1 + 0)
        r1 &= 15
        r2 = r10
        r2 += -16
        r2 += r1
        *(u8 *)(r2 + 0) = 1
        r0 = 0
        exit
