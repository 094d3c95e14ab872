; Atomic operations on the context are refused.
; expect: reject insn=1 "BPF_ATOMIC stores into R1 ctx is not allowed"
.prog tc
        r2 = 1
        lock *(u32 *)(r1 + 8) += r2
        r0 = 0
        exit
