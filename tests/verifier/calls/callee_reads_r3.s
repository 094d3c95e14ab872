; The callee reads r3, which the caller never set.
; expect: reject insn=3 "R3 !read_ok"
.prog syscall
        r1 = 3
        call f
        exit
f:
        r0 = r3
        exit
