; Storing an uninitialised register to the stack is refused.
; expect: reject insn=0 "R5 !read_ok"
.prog syscall
        *(u64 *)(r10 - 8) = r5
        r0 = 0
        exit
