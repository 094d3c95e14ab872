; A 64-bit immediate load.
; expect: accept
.prog syscall
        r0 = 0x123456789 ll
        exit
