; `goto -1` jumps to itself.
; expect: reject insn=1 "infinite loop detected at insn 1"
.prog syscall
        r0 = 0
        goto -1
