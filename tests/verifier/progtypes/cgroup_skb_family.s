; Unlike socket filters, cgroup skb programs read the socket's family and addresses through __sk_buff.
; expect: accept
.prog cgroup_skb
        r0 = *(u32 *)(r1 + 88)
        r2 = *(u32 *)(r1 + 92)
        r0 = 1
        exit
