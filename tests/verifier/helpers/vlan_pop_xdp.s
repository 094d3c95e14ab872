; bpf_skb_vlan_pop is a tc helper: XDP programs may not call it.
; expect: reject insn=0 "program of this type cannot use helper bpf_skb_vlan_pop#19"
.prog xdp
        call bpf_skb_vlan_pop
        r0 = 2
        exit
