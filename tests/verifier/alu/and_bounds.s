; `&= 0xff` bounds an unknown to [0,255]: a stack offset from fp-256 stays inside the stack.
; expect: accept
.prog syscall
        r2 = *(u64 *)(r1 + 0)
        r2 &= 0xff
        r3 = r10
        r3 += -256
        r3 += r2
        *(u8 *)(r3 + 0) = 0
        r0 = 0
        exit
