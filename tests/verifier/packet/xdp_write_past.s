; XDP may write the packet, but only inside the proven range.
; expect: reject insn=5 "invalid access to packet, off=5 size=2, R1(id=0,off=5,r=6)"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 6
        if r3 > r2 goto out
        *(u16 *)(r1 + 5) = 0
out:
        r0 = 2
        exit
