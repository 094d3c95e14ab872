; The smallest accepted program: r0 written, then exit.
; expect: accept
.prog xdp
        r0 = 2
        exit
