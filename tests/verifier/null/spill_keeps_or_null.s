; A spilled map_value_or_null comes back from the stack still unchecked.
; expect: reject insn=8 "R1 invalid mem access 'map_value_or_null'"
.prog tracepoint
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        *(u64 *)(r10 - 16) = r0
        r1 = *(u64 *)(r10 - 16)
        r0 = *(u64 *)(r1 + 0)
        r0 = 0
        exit
