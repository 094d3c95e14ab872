; On the edge where pkt + 8 > pkt_end, the original packet pointer has no proven bytes.
; expect: reject insn=7 "invalid access to packet, off=0 size=1, R1(id=0,off=0,r=0)"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 8
        if r3 > r2 goto bad
        r0 = 2
        exit
bad:
        r0 = *(u8 *)(r1 + 0)
        r0 = 2
        exit
