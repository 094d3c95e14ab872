; In a mem program r2 holds the input length, so reading it is fine.
; mem_len: 8
; expect: accept
.prog mem
        r0 = r2
        exit
