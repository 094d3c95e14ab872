; Two nested loops of 1000 x 1000: over a million processed instructions, too complex.
; expect: reject "BPF program is too large. Processed 1000001 insn"
.prog syscall
        r0 = 0
        r1 = 0
outer:
        r2 = 0
inner:
        r0 += 1
        r2 += 1
        if r2 < 1000 goto inner
        r1 += 1
        if r1 < 1000 goto outer
        exit
