; 32-bit negation.
; expect: accept
.prog syscall
        w0 = 5
        w0 = -w0
        exit
