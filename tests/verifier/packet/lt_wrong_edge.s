; pkt + 14 < pkt_end jumps to the safe side: the fall-through, where the access is, proves nothing.
; expect: reject insn=5 "invalid access to packet, off=13 size=1, R1(id=0,off=13,r=0)"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 14
        if r3 < r2 goto out
        r0 = *(u8 *)(r1 + 13)
out:
        r0 = 2
        exit
