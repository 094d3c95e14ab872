; A 32-bit spill then a 32-bit fill of a constant: the kernel (6.18) does not give the constant back here.
; expect: reject insn=6 "invalid unbounded variable-offset write to stack R3"
.prog syscall
        r1 = 3
        *(u32 *)(r10 - 4) = r1
        r2 = *(u32 *)(r10 - 4)
        r3 = r10
        r3 += -16
        r3 += r2
        *(u8 *)(r3 + 0) = 1
        r0 = 0
        exit
