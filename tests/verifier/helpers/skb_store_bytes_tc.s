; tc programs may write packet bytes with bpf_skb_store_bytes.
; expect: accept
.prog tc
        r2 = 0
        *(u64 *)(r10 - 8) = 0
        r3 = r10
        r3 += -8
        r4 = 8
        r5 = 0
        call bpf_skb_store_bytes
        r0 = 0
        exit
