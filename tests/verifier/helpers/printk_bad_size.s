; bpf_trace_printk's size says 16 bytes but only 8 were written at fp-8: it runs past the stack.
; expect: reject insn=6 "invalid read from stack R1 off=-8 size=16"
.prog tracepoint
        r1 = 0x0a6968 ll
        *(u64 *)(r10 - 8) = r1
        r1 = r10
        r1 += -8
        r2 = 16
        call bpf_trace_printk
        r0 = 0
        exit
