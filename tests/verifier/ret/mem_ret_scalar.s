; A mem program returns a scalar.
; mem_len: 8
; expect: accept
.prog mem
        r0 = r2
        exit
