; The context pointer against 0: the kernel explores the edge where it is 0 too.
; expect: reject insn=3 "R3 !read_ok"
.prog xdp
        r0 = 2
        if r1 == 0 goto bad
        exit
bad:
        r0 = *(u32 *)(r3 + 0)
        exit
