; Tracepoint context is read-only.
; expect: reject insn=1 "invalid bpf_context access off=16 size=8"
.prog tracepoint
        r2 = 0
        *(u64 *)(r1 + 16) = r2
        r0 = 0
        exit
