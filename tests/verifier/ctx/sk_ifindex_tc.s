; __sk_buff.ifindex is readable from tc.
; expect: accept
.prog tc
        r0 = *(u32 *)(r1 + 40)
        r0 = 0
        exit
