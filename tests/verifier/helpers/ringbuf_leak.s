; Reserved ringbuf memory must be submitted or discarded on every path: leaking it is refused.
; expect: reject insn=9 "Unreleased reference id=2 alloc_insn=4"
.prog syscall
.map rb ringbuf key=0 value=0 max=4096
        r1 = map(rb) ll
        r2 = 8
        r3 = 0
        call bpf_ringbuf_reserve
        if r0 == 0 goto out
        r1 = 5
        *(u64 *)(r0 + 0) = r1
out:
        r0 = 0
        exit
