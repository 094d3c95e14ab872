; As root, a sign-extending move of a pointer is allowed: the result is a scalar.
; expect: accept
.prog xdp
        r0 = (s8)r1
        r0 = 2
        exit
