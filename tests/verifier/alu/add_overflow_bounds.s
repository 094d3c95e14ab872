; [0,255] + 300 is [300,555]: from fp-600 that is fp-300 to fp-45, inside the stack.
; expect: accept
.prog syscall
        r2 = *(u8 *)(r1 + 0)
        r2 += 300
        r3 = r10
        r3 += -600
        r3 += r2
        *(u8 *)(r3 + 0) = 0
        r0 = 0
        exit
