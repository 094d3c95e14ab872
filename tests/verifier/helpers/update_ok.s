; bpf_map_update_elem: key, value and flags, all initialised.
; expect: accept
.prog tracepoint
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r1 = 1
        *(u64 *)(r10 - 16) = r1
        r1 = map(m) ll
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 0
        call bpf_map_update_elem
        r0 = 0
        exit
