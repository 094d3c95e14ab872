; r0 is written on one path only: the other path reaches exit with r0 unset.
; expect: reject insn=3 "R0 !read_ok"
.prog socket
        r2 = *(u32 *)(r1 + 0)
        if r2 > 10 goto out
        r0 = 1
out:
        exit
