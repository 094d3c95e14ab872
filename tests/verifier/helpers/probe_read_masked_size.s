; A size bounded to [0,63] by a mask fits a 64-byte buffer.
; expect: accept
.prog tracepoint
        r2 = *(u64 *)(r1 + 24)
        r2 &= 63
        r3 = *(u64 *)(r1 + 16)
        r1 = r10
        r1 += -64
        call bpf_probe_read_kernel
        r0 = 0
        exit
