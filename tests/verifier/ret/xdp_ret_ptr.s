; As root, XDP may return a pointer: r0 at exit is not range-checked for plain XDP.
; expect: accept
.prog xdp
        r0 = r1
        exit
