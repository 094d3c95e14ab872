; One path exits, the other runs off the end.
; expect: reject "last insn is not an exit or jmp"
.prog syscall
        r0 = 0
        if r0 == 0 goto out
        r0 = 1
        exit
out:
        r0 = 2
