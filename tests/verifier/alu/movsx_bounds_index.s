; A sign-extended byte is in [-128,127]: as a stack offset from fp-256 it stays inside the stack.
; expect: accept
.prog syscall
        r2 = *(u8 *)(r1 + 0)
        r2 = (s8)r2
        r3 = r10
        r3 += -256
        r3 += r2
        r0 = 0
        *(u8 *)(r3 + 0) = r0
        exit
