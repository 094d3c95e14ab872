; Filling 4 bytes of a spilled pointer gives a scalar, not a pointer.
; expect: reject insn=1 "invalid size of register fill"
.prog tc
        *(u64 *)(r10 - 8) = r1
        r2 = *(u32 *)(r10 - 8)
        r0 = *(u32 *)(r2 + 0)
        r0 = 0
        exit
