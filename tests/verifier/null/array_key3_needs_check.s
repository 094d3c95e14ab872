; Observed on 6.18: a spilled constant key 3 still needs the NULL check (only key 0 is spared, see array_zero_key_not_null.s).
; expect: reject insn=7 "R0 invalid mem access 'map_value_or_null'"
.prog xdp
.map m array key=4 value=8 max=4
        r1 = 3
        *(u64 *)(r10 - 8) = r1
        r2 = r10
        r2 += -8
        r1 = map(m) ll
        call bpf_map_lookup_elem
        r0 = *(u64 *)(r0 + 0)
        r0 = 2
        exit
