; Passing the context pointer to a callee, which reads a field.
; expect: accept
.prog tc
        call f
        r0 = 0
        exit
f:
        r0 = *(u32 *)(r1 + 0)
        exit
