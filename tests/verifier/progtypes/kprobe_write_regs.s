; struct pt_regs is read-only to a kprobe: a store to it is refused.
; expect: reject insn=1 "invalid bpf_context access off=80 size=8"
.prog kprobe
        r2 = 0
        *(u64 *)(r1 + 80) = r2
        r0 = 0
        exit
