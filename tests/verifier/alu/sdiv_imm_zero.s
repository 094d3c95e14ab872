; Signed division by an immediate zero.
; expect: reject insn=1 "div by zero"
.prog syscall
        r0 = 5
        r0 s/= 0
        exit
