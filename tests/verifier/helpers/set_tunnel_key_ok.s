; bpf_skb_set_tunnel_key reads a struct bpf_tunnel_key (44 bytes) that must be initialised.
; expect: accept
.prog tc
        r6 = r1
        r1 = 0
        *(u64 *)(r10 - 48) = r1
        *(u64 *)(r10 - 40) = r1
        *(u64 *)(r10 - 32) = r1
        *(u64 *)(r10 - 24) = r1
        *(u64 *)(r10 - 16) = r1
        *(u32 *)(r10 - 8) = r1
        r1 = r6
        r2 = r10
        r2 += -48
        r3 = 44
        r4 = 0
        call bpf_skb_set_tunnel_key
        r0 = 0
        exit
