; A mem program may write its buffer.
; mem_len: 16
; expect: accept
.prog mem
        *(u32 *)(r1 + 0) = 5
        r0 = 0
        exit
