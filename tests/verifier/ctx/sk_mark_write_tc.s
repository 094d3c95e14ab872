; tc programs may write __sk_buff.mark.
; expect: accept
.prog tc
        r2 = 7
        *(u32 *)(r1 + 8) = r2
        r0 = 0
        exit
