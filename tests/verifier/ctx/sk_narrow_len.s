; A narrow 1-byte read of __sk_buff.len is allowed (the kernel rewrites it).
; expect: accept
.prog socket
        r0 = *(u8 *)(r1 + 0)
        r0 = 0
        exit
