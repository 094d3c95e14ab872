; An 8-byte read at offset 16 of a 16-byte value is past its end.
; expect: reject insn=7 "invalid access to map value, value_size=16 off=16 size=8"
.prog xdp
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = *(u64 *)(r0 + 16)
out:
        r0 = 0
        exit
