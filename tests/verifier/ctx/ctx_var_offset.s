; The context pointer plus a variable offset cannot be dereferenced.
; expect: reject insn=3 "variable ctx access var_off=(0x0; 0x4) disallowed"
.prog tc
        r2 = *(u32 *)(r1 + 0)
        r2 &= 4
        r1 += r2
        r0 = *(u32 *)(r1 + 0)
        r0 = 0
        exit
