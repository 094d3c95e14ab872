; A callee returning a pointer to its own stack: the frame is gone after exit.
; expect: reject insn=5 "cannot return stack pointer to the caller"
.prog syscall
        call f
        r0 = *(u64 *)(r0 + 0)
        exit
f:
        r0 = r10
        r0 += -8
        exit
