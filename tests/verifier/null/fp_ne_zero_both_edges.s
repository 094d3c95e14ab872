; A stack pointer is never NULL, yet the kernel does not decide `r1 != 0` for one: only map
; values and keys, sockets, ring buffer records and map references count as "not null"
; (`reg_not_null`). Both edges are explored, so the read of an unwritten r2 is reached.
; expect: reject insn=3 "R2 !read_ok"
.prog xdp
        r1 = r10
        r0 = 2
        if r1 != 0 goto out
        r0 = *(u32 *)(r2 + 0)
out:
        exit
