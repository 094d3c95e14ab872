; bpf_skb_load_bytes needs an __sk_buff: a tracepoint may not call it.
; expect: reject insn=4 "program of this type cannot use helper bpf_skb_load_bytes#26"
.prog tracepoint
        r2 = 0
        r3 = r10
        r3 += -8
        r4 = 8
        call bpf_skb_load_bytes
        r0 = 0
        exit
