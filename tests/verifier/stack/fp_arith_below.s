; Pointing below the stack is allowed; only an access there is refused.
; expect: accept
.prog syscall
        r1 = r10
        r1 += -600
        r0 = 0
        r0 = 0
        exit
