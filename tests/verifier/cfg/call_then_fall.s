; A subprogram that loops on itself with nothing changing: an infinite loop.
; expect: reject insn=2 "infinite loop detected at insn 2"
.prog syscall
        call f
        exit
f:
        r0 = 0
        goto f
