; A jump past the last instruction.
; expect: reject "jump out of range from insn 1 to 7"
.prog syscall
        r0 = 0
        if r0 == 0 goto +5
        exit
