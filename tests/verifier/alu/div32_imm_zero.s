; 32-bit division by an immediate zero.
; expect: reject insn=1 "div by zero"
.prog syscall
        w0 = 5
        w0 /= 0
        exit
