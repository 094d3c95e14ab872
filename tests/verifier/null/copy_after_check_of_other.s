; Two lookups have different ids: checking the first proves nothing about the second.
; expect: reject insn=13 "R0 invalid mem access 'map_value_or_null'"
.prog socket
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        r6 = r0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r6 == 0 goto out
        r0 = *(u64 *)(r0 + 0)
out:
        r0 = 0
        exit
