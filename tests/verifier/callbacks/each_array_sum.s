; bpf_for_each_map_elem over an array: the key (read-only, 4 bytes) and the value (writable) point into the map.
; expect: accept
.prog syscall
.map vals array key=4 value=8 max=4
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        r1 = map(vals) ll
        r2 = func(visit) ll
        r3 = r10
        r3 += -8
        r4 = 0
        call bpf_for_each_map_elem
        r1 = *(u64 *)(r10 - 8)
        r0 <<= 32
        r0 += r1
        exit
visit:
        r5 = *(u32 *)(r2 + 0)
        r5 += 1
        r5 *= 10
        *(u64 *)(r3 + 0) = r5
        r1 = *(u64 *)(r4 + 0)
        r1 += r5
        *(u64 *)(r4 + 0) = r1
        r0 = 0
        exit
