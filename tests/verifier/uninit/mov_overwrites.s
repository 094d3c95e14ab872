; A plain move only writes its destination, so moving into an unset register is fine.
; expect: accept
.prog tc
        r4 = 7
        r0 = r4
        exit
