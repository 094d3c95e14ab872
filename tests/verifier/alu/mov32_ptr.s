; As root, a 32-bit move of a pointer is allowed: the result is a scalar (the low half).
; expect: accept
.prog xdp
        w0 = w1
        r0 = 2
        exit
