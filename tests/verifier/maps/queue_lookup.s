; A queue has no keys (key_size 0): bpf_map_lookup_elem then reads a zero-sized key. Use bpf_map_peek_elem.
; expect: reject insn=5 "invalid zero-sized read"
.prog xdp
.map q queue key=0 value=8 max=4
        r1 = map(q) ll
        r2 = r10
        r2 += -8
        *(u64 *)(r10 - 8) = r2
        call bpf_map_lookup_elem
        r0 = 2
        exit
