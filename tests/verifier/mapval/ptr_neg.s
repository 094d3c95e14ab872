; As root, negating a pointer is allowed: the result is an unknown scalar.
; expect: accept
.prog syscall
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r0 = -r0
out:
        r0 = 0
        exit
