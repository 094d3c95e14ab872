; As root, a key only half written is accepted: the other 4 bytes are whatever was there.
; expect: accept
.prog xdp
.map m hash key=8 value=8 max=4
        *(u32 *)(r10 - 8) = 0
        r2 = r10
        r2 += -8
        r1 = map(m) ll
        call bpf_map_lookup_elem
        r0 = 2
        exit
