; The same loop one iteration too far: the 9th write lands at fp+0, above the stack.
; expect: reject insn=6 "invalid write to stack R2 off=0 size=8"
.prog syscall
        r1 = 0
loop:
        r2 = r10
        r2 += -64
        r3 = r1
        r3 <<= 3
        r2 += r3
        *(u64 *)(r2 + 0) = r1
        r1 += 1
        if r1 < 9 goto loop
        r0 = *(u64 *)(r10 - 8)
        exit
