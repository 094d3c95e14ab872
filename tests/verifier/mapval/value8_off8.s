; value_size=8: offset 8 is past the end.
; expect: reject insn=7 "invalid access to map value, value_size=8 off=8 size=8"
.prog tc
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = *(u64 *)(r0 + 8)
out:
        r0 = 0
        exit
