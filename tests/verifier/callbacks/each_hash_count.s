; bpf_for_each_map_elem over a hash: a count on the caller's stack grows at each visit; the visits converge all the same.
; expect: accept
.prog syscall
.map h hash key=4 value=8 max=8
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        *(u64 *)(r10 - 16) = r1
        r1 = map(h) ll
        r2 = func(visit) ll
        r3 = r10
        r3 += -16
        r4 = 0
        call bpf_for_each_map_elem
        r6 = r0
        r0 = *(u64 *)(r10 - 16)
        r1 = *(u64 *)(r10 - 8)
        r0 += r1
        r0 += r6
        exit
visit:
        r1 = *(u64 *)(r4 + 0)
        r1 += 1
        *(u64 *)(r4 + 0) = r1
        r5 = *(u64 *)(r3 + 0)
        r1 = *(u64 *)(r4 + 8)
        r1 += r5
        *(u64 *)(r4 + 8) = r1
        r0 = 0
        exit
