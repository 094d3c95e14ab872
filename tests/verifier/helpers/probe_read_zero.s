; A zero size is allowed for this mem+size pair (ARG_CONST_SIZE_OR_ZERO).
; expect: accept
.prog tracepoint
        r2 = 0
        r3 = 0
        r1 = r10
        r1 += -8
        call bpf_probe_read_kernel
        r0 = 0
        exit
