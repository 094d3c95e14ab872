; bpf_skb_vlan_push takes the skb, the VLAN protocol (network order) and the TCI.
; expect: accept
.prog tc
        r2 = 0x0081
        r3 = 100
        call bpf_skb_vlan_push
        r0 = 0
        exit
