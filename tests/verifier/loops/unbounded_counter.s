; The loop bound comes from the context (unknown): the counter can never be proven to stop.
; expect: reject "BPF program is too large. Processed 1000001 insn"
.prog syscall
        r2 = *(u64 *)(r1 + 0)
        r0 = 0
        r1 = 0
loop:
        r0 += 1
        r1 += 1
        if r1 < r2 goto loop
        exit
