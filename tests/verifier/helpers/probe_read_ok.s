; bpf_probe_read_kernel: destination on the stack, size a constant, source any address.
; expect: accept
.prog tracepoint
        r3 = *(u64 *)(r1 + 16)
        r1 = r10
        r1 += -16
        r2 = 16
        call bpf_probe_read_kernel
        r0 = 0
        exit
