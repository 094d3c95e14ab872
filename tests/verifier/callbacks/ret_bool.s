; A callback returning a comparison's outcome: in [0, 1] on both paths.
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
        r1 = *(u64 *)(r3 + 0)
        r0 = 0
        if r1 < 10 goto +1
        r0 = 1
        exit
