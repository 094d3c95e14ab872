; pkt + 14 != pkt_end: no range from an inequality.
; expect: reject insn=6 "invalid access to packet, off=13 size=1, R1(id=0,off=13,r=0)"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 14
        if r3 != r2 goto ok
        goto out
ok:
        r0 = *(u8 *)(r1 + 13)
out:
        r0 = 2
        exit
