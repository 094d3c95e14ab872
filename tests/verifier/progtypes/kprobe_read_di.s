; A kprobe reads the probed function's first argument from struct pt_regs (di, at 112).
; expect: accept
.prog kprobe
        r0 = *(u64 *)(r1 + 112)
        exit
