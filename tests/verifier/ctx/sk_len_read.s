; __sk_buff.len (offset 0) is readable as a u32.
; expect: accept
.prog socket
        r0 = *(u32 *)(r1 + 0)
        r0 = 0
        exit
