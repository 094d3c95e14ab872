; An array lookup with a key not known at verification time may return NULL.
; expect: reject insn=7 "R0 invalid mem access 'map_value_or_null'"
.prog tc
.map m array key=4 value=8 max=4
        r2 = *(u32 *)(r1 + 0)
        *(u32 *)(r10 - 4) = r2
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        r0 = *(u64 *)(r0 + 0)
        r0 = 0
        exit
