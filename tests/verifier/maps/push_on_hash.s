; bpf_map_push_elem takes queues and stacks only.
; expect: reject insn=7 "cannot pass map_type 1 into func bpf_map_push_elem#87"
.prog xdp
.map h hash key=4 value=8 max=4
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        r1 = map(h) ll
        r2 = r10
        r2 += -8
        r3 = 0
        call bpf_map_push_elem
        r0 = 2
        exit
