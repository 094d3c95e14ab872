; cb[] may be written 8 bytes at a time when aligned.
; expect: accept
.prog socket
        r2 = 7
        *(u64 *)(r1 + 48) = r2
        r0 = 0
        exit
