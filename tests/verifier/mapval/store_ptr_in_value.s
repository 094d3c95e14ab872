; As root, storing a stack pointer into a map value is allowed (a pointer leak only matters unprivileged).
; expect: accept
.prog syscall
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        *(u64 *)(r0 + 0) = r10
out:
        r0 = 0
        exit
