; Socket filters may not modify the packet: bpf_skb_store_bytes is for tc.
; expect: reject insn=6 "program of this type cannot use helper bpf_skb_store_bytes#9"
.prog socket
        r2 = 0
        *(u64 *)(r10 - 8) = 0
        r3 = r10
        r3 += -8
        r4 = 8
        r5 = 0
        call bpf_skb_store_bytes
        r0 = 0
        exit
