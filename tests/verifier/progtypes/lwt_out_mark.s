; lwt_out may set mark and priority.
; expect: accept
.prog lwt_out
        r2 = 3
        *(u32 *)(r1 + 8) = r2
        r0 = 0
        exit
