; A cpumap is only a redirect target: programs cannot look into it.
; expect: reject insn=6 "cannot pass map_type 16 into func bpf_map_lookup_elem#1"
.prog xdp
.map cpus cpumap key=4 value=4 max=2
        r1 = 0
        *(u32 *)(r10 - 4) = r1
        r1 = map(cpus) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        r0 = 2
        exit
