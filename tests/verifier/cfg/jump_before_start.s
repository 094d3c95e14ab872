; A jump before the first instruction.
; expect: reject "jump out of range from insn 1 to -1"
.prog syscall
        r0 = 0
        if r0 == 0 goto -3
        exit
