; A 32-bit compare of a map_value_or_null with 0 is not a NULL check.
; expect: reject insn=7 "R0 invalid mem access 'map_value_or_null'"
.prog xdp
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if w0 == 0 goto out
        r1 = *(u64 *)(r0 + 0)
out:
        r0 = 2
        exit
