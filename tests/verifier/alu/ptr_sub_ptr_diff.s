; As root, subtracting a context pointer from the frame pointer is allowed: the result is a scalar.
; expect: accept
.prog xdp
        r0 = r10
        r0 -= r1
        exit
