; bpf_ringbuf_reserve's size must be a constant.
; expect: reject insn=5 "R2 is not a known constant'"
.prog syscall
.map rb ringbuf key=0 value=0 max=4096
        r2 = *(u64 *)(r1 + 0)
        r2 &= 63
        r1 = map(rb) ll
        r3 = 0
        call bpf_ringbuf_reserve
        if r0 == 0 goto out
        r1 = r0
        r2 = 0
        call bpf_ringbuf_discard
out:
        r0 = 0
        exit
