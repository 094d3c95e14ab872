; bpf_map_lookup_elem on a ring buffer: that map type has no lookup.
; expect: reject insn=5 "invalid zero-sized read"
.prog syscall
.map rb ringbuf key=0 value=0 max=4096
        *(u32 *)(r10 - 4) = 0
        r1 = map(rb) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        r0 = 0
        exit
