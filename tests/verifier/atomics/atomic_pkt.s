; Atomic operations on packet memory are refused.
; expect: reject insn=7 "BPF_ATOMIC stores into R1 pkt is not allowed"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 8
        r0 = 2
        if r3 > r2 goto +2
        r2 = 1
        lock *(u64 *)(r1 + 0) += r2
        exit
