; Division by a register that is zero is allowed: at run time x / 0 = 0.
; expect: accept
.prog syscall
        r0 = 5
        r1 = 0
        r0 /= r1
        r0 = 0
        exit
