; The last instruction is not an exit or a jump: execution would fall off the end.
; expect: reject "last insn is not an exit or jmp"
.prog syscall
        r0 = 0
