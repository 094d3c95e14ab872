; fp-16 + [0,31] can reach above the frame pointer: refused.
; expect: reject insn=5 "invalid variable-offset write to stack R2 var_off=(0x0; 0x1f) off=-16 size=1"
.prog syscall
        r1 = *(u64 *)(r1 + 0)
        r1 &= 31
        r2 = r10
        r2 += -16
        r2 += r1
        *(u8 *)(r2 + 0) = 1
        r0 = 0
        exit
