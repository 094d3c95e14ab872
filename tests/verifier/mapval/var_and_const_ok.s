; Variable [0,3] plus 8 plus 4 bytes: at most byte 14, inside.
; expect: accept
.prog tracepoint
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = *(u32 *)(r0 + 0)
        r1 &= 3
        r0 += r1
        r1 = *(u32 *)(r0 + 8)
out:
        r0 = 0
        exit
