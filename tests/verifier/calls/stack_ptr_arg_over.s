; The callee writes 8 bytes at the caller's fp-4: past the top of the caller's stack.
; expect: reject insn=6 "invalid write to stack R1 off=0 size=4"
.prog syscall
        r1 = r10
        r1 += -4
        call f
        r0 = 0
        exit
f:
        r2 = 7
        *(u32 *)(r1 + 4) = r2
        r0 = 0
        exit
