; Offset [0,15] plus an 8-byte read can reach byte 22 of a 16-byte value.
; expect: reject insn=10 "invalid access to map value, value_size=16 off=15 size=8"
.prog syscall
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = *(u32 *)(r0 + 0)
        r1 &= 15
        r0 += r1
        r1 = *(u64 *)(r0 + 0)
out:
        r0 = 0
        exit
