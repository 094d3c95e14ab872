; A mem program's r1 is the input buffer: 16 bytes, so offset 8 is fine.
; mem_len: 16
; expect: accept
.prog mem
        r0 = *(u64 *)(r1 + 8)
        r0 = 0
        exit
