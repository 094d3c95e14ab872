; `if r0 != 0 goto use` proves r0 non-NULL on the taken edge.
; expect: accept
.prog tc
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 != 0 goto use
        r0 = 0
        exit
use:
        r0 = *(u64 *)(r0 + 0)
        r0 = 0
        exit
