; 32-bit movsx from 16 bits.
; expect: accept
.prog syscall
        r1 = 0x8000
        w0 = (s16)w1
        exit
