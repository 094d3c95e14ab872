; bpf_ringbuf_output copies a stack buffer into the ring buffer.
; expect: accept
.prog syscall
.map rb ringbuf key=0 value=0 max=4096
        r1 = 7
        *(u64 *)(r10 - 8) = r1
        r1 = map(rb) ll
        r2 = r10
        r2 += -8
        r3 = 8
        r4 = 0
        call bpf_ringbuf_output
        r0 = 0
        exit
