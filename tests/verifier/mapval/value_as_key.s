; A map value pointer is a valid key argument (4 of its 16 bytes).
; expect: accept
.prog tc
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r2 = r0
        r1 = map(m) ll
        call bpf_map_lookup_elem
out:
        r0 = 0
        exit
