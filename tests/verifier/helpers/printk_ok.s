; bpf_trace_printk's format must be readable memory of the given size (here a string on the stack).
; expect: accept
.prog tracepoint
        r1 = 0x0a6968 ll
        *(u64 *)(r10 - 8) = r1
        r1 = r10
        r1 += -8
        r2 = 4
        call bpf_trace_printk
        r0 = 0
        exit
