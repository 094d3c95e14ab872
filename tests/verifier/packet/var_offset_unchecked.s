; A packet pointer plus a variable offset (IHL * 4) needs its own check against data_end.
; expect: reject insn=10 "invalid access to packet, off=14 size=1, R5(id=1,off=14,r=0)"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 34
        if r3 > r2 goto out
        r4 = *(u8 *)(r1 + 14)
        r4 &= 15
        r4 <<= 2
        r5 = r1
        r5 += r4
        r0 = *(u8 *)(r5 + 14)
out:
        r0 = 2
        exit
