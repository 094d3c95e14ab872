; A mem+size pair with a size from the context: the size must be bounded.
; expect: reject insn=4 "R2 min value is negative, either use unsigned or 'var &= const'"
.prog tracepoint
        r2 = *(u64 *)(r1 + 24)
        r3 = *(u64 *)(r1 + 16)
        r1 = r10
        r1 += -64
        call bpf_probe_read_kernel
        r0 = 0
        exit
