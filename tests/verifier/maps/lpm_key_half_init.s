; A privileged loader (CAP_PERFMON) may pass uninitialised stack bytes as a key: the address half
; is read uninitialised, and the kernel accepts it.
; expect: accept
.prog xdp
.map routes lpm_trie key=8 value=8 max=16 flags=1
        r1 = 32
        *(u32 *)(r10 - 8) = r1
        r1 = map(routes) ll
        r2 = r10
        r2 += -8
        call bpf_map_lookup_elem
        r0 = 2
        exit
