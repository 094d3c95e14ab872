; fp+0 is above the frame: the stack grows down from r10.
; expect: reject insn=1 "invalid write to stack R10 off=0 size=8"
.prog syscall
        r1 = 0
        *(u64 *)(r10 + 0) = r1
        r0 = 0
        exit
