; A read one byte before the map value.
; expect: reject insn=7 "invalid access to map value, value_size=16 off=-1 size=1"
.prog xdp
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = *(u8 *)(r0 - 1)
out:
        r0 = 0
        exit
