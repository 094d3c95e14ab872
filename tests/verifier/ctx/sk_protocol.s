; __sk_buff.protocol (offset 16) is readable.
; expect: accept
.prog tc
        r0 = *(u32 *)(r1 + 16)
        r0 = 0
        exit
