; The scratch area cb[0..4] is writable by socket filters.
; expect: accept
.prog socket
        r2 = 7
        *(u32 *)(r1 + 48) = r2
        r0 = 0
        exit
