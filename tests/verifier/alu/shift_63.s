; A 64-bit shift by 63 is the largest valid one.
; expect: accept
.prog syscall
        r0 = 1
        r0 <<= 63
        exit
