; Tracepoint context reads must be aligned to their size.
; expect: reject insn=0 "invalid bpf_context access off=12 size=8"
.prog tracepoint
        r0 = *(u64 *)(r1 + 12)
        r0 = 0
        exit
