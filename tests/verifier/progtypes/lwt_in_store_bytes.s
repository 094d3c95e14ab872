; lwt_in may not change the packet: bpf_skb_store_bytes is lwt_xmit's (and tc's).
; expect: reject insn=7 "program of this type cannot use helper bpf_skb_store_bytes#9"
.prog lwt_in
        r2 = 0
        *(u32 *)(r10 - 4) = r2
        r2 = 0
        r3 = r10
        r3 += -4
        r4 = 4
        r5 = 0
        call bpf_skb_store_bytes
        r0 = 0
        exit
