; Modulo by an immediate zero is refused too.
; expect: reject insn=1 "div by zero"
.prog syscall
        r0 = 5
        r0 %= 0
        exit
