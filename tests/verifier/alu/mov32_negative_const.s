; `w0 = w5` with r5 = -1 makes r0 the 64-bit constant 0xffffffff in every view, not only in its
; tnum: added to a packet pointer it is far beyond the 2^29 a pointer may move.
; expect: reject insn=6 "math between pkt pointer and 4294967295 is not allowed"
.prog xdp
        r2 = *(u32 *)(r1 + 0)
        r3 = *(u32 *)(r1 + 4)
        r4 = r2
        if r4 > r3 goto out
        r5 = -1
        w0 = w5
        r0 += r2
out:
        r0 = 2
        exit
