; bpf_skb_load_bytes copies packet bytes into a stack buffer (tc).
; expect: accept
.prog tc
        r2 = 0
        r3 = r10
        r3 += -16
        r4 = 16
        call bpf_skb_load_bytes
        r0 = 0
        exit
