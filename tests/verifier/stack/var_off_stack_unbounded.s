; An unbounded variable offset on the stack pointer is refused.
; expect: reject insn=2 "math between fp pointer and register with unbounded min value is not allowed"
.prog syscall
        r1 = *(u64 *)(r1 + 0)
        r2 = r10
        r2 += r1
        *(u8 *)(r2 + 0) = 1
        r0 = 0
        exit
