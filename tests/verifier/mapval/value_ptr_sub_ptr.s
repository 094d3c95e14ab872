; Subtracting two pointers into the same map value gives a scalar.
; expect: accept
.prog syscall
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = r0
        r1 += 8
        r1 -= r0
        r0 = r1
out:
        r0 = 0
        exit
