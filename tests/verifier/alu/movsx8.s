; movsx: sign-extend the low byte (ISA v4).
; expect: accept
.prog syscall
        r1 = 0x80
        r0 = (s8)r1
        exit
