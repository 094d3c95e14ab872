; A key in the packet, after a bounds check, is a valid key argument.
; expect: accept
.prog xdp
.map m hash key=4 value=8 max=4
        r2 = *(u32 *)(r1 + 4)
        r6 = *(u32 *)(r1 + 0)
        r3 = r6
        r3 += 4
        if r3 > r2 goto out
        r2 = r6
        r1 = map(m) ll
        call bpf_map_lookup_elem
out:
        r0 = 2
        exit
