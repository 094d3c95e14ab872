; A ring buffer has no elements to visit.
; expect: reject insn=9 "callback function not allowed for map"
.prog syscall
.map rb ringbuf key=0 value=0 max=4096
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        r1 = map(rb) ll
        r2 = func(cb) ll
        r3 = r10
        r3 += -8
        r4 = 0
        call bpf_for_each_map_elem
        r0 = 0
        exit
cb:
        r0 = 0
        exit
