; `goto +0` is a no-op jump.
; expect: accept
.prog syscall
        r0 = 0
        goto +0
        exit
