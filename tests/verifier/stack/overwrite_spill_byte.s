; A byte written over a spilled pointer destroys it: the fill is a scalar.
; expect: reject insn=3 "R2 invalid mem access 'scalar'"
.prog tc
        *(u64 *)(r10 - 8) = r1
        *(u8 *)(r10 - 8) = 0
        r2 = *(u64 *)(r10 - 8)
        r0 = *(u32 *)(r2 + 0)
        r0 = 0
        exit
