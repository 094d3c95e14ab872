; r0 + 12 then an 8-byte read: off 12 size 8 in a 16-byte value.
; expect: reject insn=8 "invalid access to map value, value_size=16 off=12 size=8"
.prog socket
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r0 += 12
        r1 = *(u64 *)(r0 + 0)
out:
        r0 = 0
        exit
