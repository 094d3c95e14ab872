; A `goto` jumps over an instruction that nothing else reaches.
; expect: reject "unreachable insn 2"
.prog syscall
        r0 = 0
        goto out
        r0 = 1
out:
        exit
