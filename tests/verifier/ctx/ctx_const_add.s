; ctx + 8 then a read at +0: the kernel wants the offset in the instruction, not in the pointer.
; expect: reject insn=1 "dereference of modified ctx ptr R1 off=8 disallowed"
.prog tc
        r1 += 8
        r0 = *(u32 *)(r1 + 0)
        r0 = 0
        exit
