; Writing past the 8 bytes reserved in the ring buffer.
; expect: reject insn=7 "invalid access to memory, mem_size=8 off=8 size=8"
.prog syscall
.map rb ringbuf key=0 value=0 max=4096
        r1 = map(rb) ll
        r2 = 8
        r3 = 0
        call bpf_ringbuf_reserve
        if r0 == 0 goto out
        r1 = 5
        *(u64 *)(r0 + 8) = r1
        r1 = r0
        r2 = 0
        call bpf_ringbuf_submit
out:
        r0 = 0
        exit
