; Using reserved memory before the NULL check.
; expect: reject insn=6 "R0 invalid mem access 'ringbuf_mem_or_null'"
.prog syscall
.map rb ringbuf key=0 value=0 max=4096
        r1 = map(rb) ll
        r2 = 8
        r3 = 0
        call bpf_ringbuf_reserve
        r1 = 5
        *(u64 *)(r0 + 0) = r1
        r1 = r0
        r2 = 0
        call bpf_ringbuf_submit
        r0 = 0
        exit
