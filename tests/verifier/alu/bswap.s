; bswap16 (ISA v4).
; expect: accept
.prog syscall
        r0 = 0x1234
        r0 = bswap16 r0
        exit
