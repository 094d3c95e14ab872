; callx (BPF_CALL with a register) is not an instruction the kernel accepts in a program.
; expect: reject "unknown opcode 8d"
.prog syscall
        callx r1
        r0 = 0
        exit
