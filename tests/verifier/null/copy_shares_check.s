; A copy of the lookup result shares its id: checking the copy proves the original too.
; expect: accept
.prog socket
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        r6 = r0
        if r6 == 0 goto out
        r0 = *(u64 *)(r0 + 0)
out:
        r0 = 0
        exit
