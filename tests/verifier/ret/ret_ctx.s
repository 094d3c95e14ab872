; As root, tc may return the context pointer.
; expect: accept
.prog tc
        r0 = r1
        exit
