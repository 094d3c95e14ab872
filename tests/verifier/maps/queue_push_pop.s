; A queue: bpf_map_push_elem reads value_size bytes, bpf_map_pop_elem writes them (the buffer
; need not be initialised).
; expect: accept
.prog xdp
.map q queue key=0 value=8 max=4
        r1 = 7
        *(u64 *)(r10 - 8) = r1
        r1 = map(q) ll
        r2 = r10
        r2 += -8
        r3 = 0
        call bpf_map_push_elem
        r1 = map(q) ll
        r2 = r10
        r2 += -16
        call bpf_map_pop_elem
        r0 = *(u64 *)(r10 - 16)
        r0 = 2
        exit
