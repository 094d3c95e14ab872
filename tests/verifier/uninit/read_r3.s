; Reading a register nobody wrote (r3 is not an argument) is refused where it is read.
; expect: reject insn=0 "R3 !read_ok"
.prog socket
        r0 = r3
        exit
