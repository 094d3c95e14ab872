; A kprobe has no packet: bpf_skb_load_bytes is not among its helpers.
; expect: reject insn=4 "program of this type cannot use helper bpf_skb_load_bytes#26"
.prog kprobe
        r2 = 0
        r3 = r10
        r3 += -8
        r4 = 4
        call bpf_skb_load_bytes
        r0 = 0
        exit
