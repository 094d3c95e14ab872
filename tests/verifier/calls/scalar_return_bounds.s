; The callee returns a known constant: the caller may use it to index its stack.
; expect: accept
.prog syscall
        call f
        r1 = r10
        r1 += -16
        r1 += r0
        r2 = 0
        *(u64 *)(r1 + 0) = r2
        r0 = 0
        exit
f:
        r0 = 8
        exit
