; Writing inside the value.
; expect: accept
.prog tc
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = 3
        *(u32 *)(r0 + 12) = r1
out:
        r0 = 0
        exit
