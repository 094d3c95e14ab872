; A syscall program may return any scalar.
; expect: accept
.prog syscall
        r0 = -5
        exit
