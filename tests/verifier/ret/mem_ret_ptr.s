; A mem program is a subprogram of the kernel backend's wrapper: it may return its buffer pointer.
; mem_len: 8
; expect: accept
.prog mem
        r0 = r1
        exit
