; Subtracting from a stack pointer is prohibited, even a constant: move it with += -N instead.
; expect: reject insn=1 "R1 subtraction from stack pointer prohibited"
.prog syscall
        r1 = r10
        r1 -= 8
        r0 = 0
        exit
