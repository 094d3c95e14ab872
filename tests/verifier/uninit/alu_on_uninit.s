; ALU on an uninitialised destination reads it first: `r4 += 1` needs r4.
; expect: reject insn=1 "R4 !read_ok"
.prog tc
        r0 = 0
        r4 += 1
        exit
