; A raw tracepoint has at most 12 arguments: offset 96 (args[12]) is outside the context.
; expect: reject insn=0 "invalid bpf_context access off=96 size=8"
.prog raw_tracepoint
        r0 = *(u64 *)(r1 + 96)
        exit
