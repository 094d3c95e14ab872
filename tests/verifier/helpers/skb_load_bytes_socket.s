; Socket filters may copy packet bytes with bpf_skb_load_bytes.
; expect: accept
.prog socket
        r2 = 0
        r3 = r10
        r3 += -8
        r4 = 8
        call bpf_skb_load_bytes
        r0 = 0
        exit
