; bpf_redirect_map on a devmap, with XDP_PASS as the answer when the slot is empty.
; expect: accept
.prog xdp
.map ports devmap key=4 value=4 max=4
        r1 = map(ports) ll
        r2 = 0
        r3 = 2
        call bpf_redirect_map
        exit
