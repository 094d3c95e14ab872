; Signed modulo by a non-zero immediate.
; expect: accept
.prog syscall
        r0 = -7
        r0 s%= 3
        exit
