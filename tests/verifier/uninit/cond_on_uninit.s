; A comparison reads both operands: an unset r7 cannot be compared.
; expect: reject insn=1 "R7 !read_ok"
.prog tracepoint
        r0 = 0
        if r7 > 3 goto out
        r0 = 1
out:
        exit
