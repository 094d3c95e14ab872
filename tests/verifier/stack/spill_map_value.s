; A checked map value pointer spilled across a helper call and filled back is still usable.
; expect: accept
.prog tc
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        *(u64 *)(r10 - 16) = r0
        call bpf_ktime_get_ns
        r1 = *(u64 *)(r10 - 16)
        *(u64 *)(r1 + 0) = r0
out:
        r0 = 0
        exit
