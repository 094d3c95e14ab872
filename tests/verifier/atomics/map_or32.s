; A 32-bit atomic or into a map value.
; expect: accept
.prog tc
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        w1 = 1
        lock *(u32 *)(r0 + 4) |= w1
out:
        r0 = 0
        exit
