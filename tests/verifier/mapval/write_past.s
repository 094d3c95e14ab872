; A 4-byte write at 14 runs past a 16-byte value.
; expect: reject insn=7 "invalid access to map value, value_size=16 off=14 size=4"
.prog tc
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        *(u32 *)(r0 + 14) = 1
out:
        r0 = 0
        exit
