; A checked map value pointer passed to a callee, which writes into it.
; expect: accept
.prog xdp
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = r0
        call f
out:
        r0 = 2
        exit
f:
        r2 = 1
        *(u64 *)(r1 + 0) = r2
        r0 = 0
        exit
