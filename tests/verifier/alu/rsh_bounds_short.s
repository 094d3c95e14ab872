; `>>= 55` leaves up to 511: from fp-256 that reaches past the frame pointer.
; expect: reject insn=5 "invalid variable-offset write to stack R3 var_off=(0x0; 0x1ff) off=-256 size=1"
.prog syscall
        r2 = *(u64 *)(r1 + 0)
        r2 >>= 55
        r3 = r10
        r3 += -256
        r3 += r2
        *(u8 *)(r3 + 0) = 0
        r0 = 0
        exit
