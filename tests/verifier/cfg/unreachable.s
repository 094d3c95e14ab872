; An instruction no path reaches.
; expect: reject "unreachable insn 2"
.prog syscall
        r0 = 0
        exit
        r0 = 1
        exit
