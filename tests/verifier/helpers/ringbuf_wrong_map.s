; bpf_ringbuf_reserve on a hash map: the wrong map type for this helper.
; expect: reject insn=4 "cannot pass map_type 1 into func bpf_ringbuf_reserve#131"
.prog syscall
.map m hash key=4 value=8 max=4
        r1 = map(m) ll
        r2 = 8
        r3 = 0
        call bpf_ringbuf_reserve
        r0 = 0
        exit
