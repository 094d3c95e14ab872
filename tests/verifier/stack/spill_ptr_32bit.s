; A pointer can only be spilled whole: a 4-byte store of it to the stack is refused.
; expect: reject insn=0 "invalid size of register spill"
.prog tc
        *(u32 *)(r10 - 8) = r1
        r0 = 0
        exit
