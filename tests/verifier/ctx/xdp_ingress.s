; xdp_md.ingress_ifindex is readable.
; expect: accept
.prog xdp
        r0 = *(u32 *)(r1 + 12)
        r0 = 0
        exit
