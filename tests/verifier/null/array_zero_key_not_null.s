; Key 0 is in range of every array: the lookup cannot fail, no NULL check needed.
; expect: accept
.prog xdp
.map m array key=4 value=8 max=4
        r1 = 0
        *(u32 *)(r10 - 4) = r1
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        r0 = *(u64 *)(r0 + 0)
        r0 = 2
        exit
