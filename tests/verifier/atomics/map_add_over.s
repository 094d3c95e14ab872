; An atomic add at offset 12 of a 16-byte value runs past it.
; expect: reject insn=8 "misaligned value access off 0+0+12 size 8"
.prog tc
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = 1
        lock *(u64 *)(r0 + 12) += r1
out:
        r0 = 0
        exit
