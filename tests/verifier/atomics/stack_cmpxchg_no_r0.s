; cmpxchg reads r0: here it was never set.
; expect: reject insn=3 "R0 !read_ok"
.prog syscall
        r1 = 5
        *(u64 *)(r10 - 8) = r1
        r1 = 9
        r0 = cmpxchg_64(r10 - 8, r0, r1)
        exit
