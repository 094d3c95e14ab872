; A map lookup returns a map value or NULL: dereferencing it before a NULL check is refused.
; expect: reject insn=6 "R0 invalid mem access 'map_value_or_null'"
.prog xdp
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        r0 = *(u64 *)(r0 + 0)
        r0 = 2
        exit
