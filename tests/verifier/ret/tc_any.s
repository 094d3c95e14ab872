; A tc classifier may return any scalar.
; expect: accept
.prog tc
        r0 = 12345
        exit
