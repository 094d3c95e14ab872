; Writing through an unchecked lookup result is refused just like reading.
; expect: reject insn=6 "R0 invalid mem access 'map_value_or_null'"
.prog syscall
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        *(u64 *)(r0 + 0) = 1
        r0 = 0
        exit
