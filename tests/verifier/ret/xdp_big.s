; Plain XDP programs have no return range check: 100 is accepted (it would be XDP_ABORTED at run time).
; expect: accept
.prog xdp
        r0 = 100
        exit
