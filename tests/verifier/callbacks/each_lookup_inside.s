; A callback may call helpers, here a lookup in the same map.
; expect: accept
.prog syscall
.map vals array key=4 value=8 max=4
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        r1 = map(vals) ll
        r2 = func(cb) ll
        r3 = r10
        r3 += -8
        r4 = 0
        call bpf_for_each_map_elem
        r0 = 0
        exit
cb:
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        r2 = r10
        r2 += -8
        r1 = map(vals) ll
        call bpf_map_lookup_elem
        r0 = 0
        exit
