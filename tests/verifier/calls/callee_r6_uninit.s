; Callee-saved registers are not passed: r6 is uninitialised inside the callee.
; expect: reject insn=3 "R6 !read_ok"
.prog syscall
        r6 = 3
        call f
        exit
f:
        r0 = r6
        exit
