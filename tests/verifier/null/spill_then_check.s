; Spill the result, check the register, reload: the filled copy is proven too (same id).
; expect: accept
.prog tracepoint
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        *(u64 *)(r10 - 16) = r0
        if r0 == 0 goto out
        r1 = *(u64 *)(r10 - 16)
        r0 = *(u64 *)(r1 + 0)
out:
        r0 = 0
        exit
