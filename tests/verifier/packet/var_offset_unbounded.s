; A full 8-bit offset is bounded (< 256) but an unmasked 32-bit load is too big for packet math.
; expect: reject insn=10 "invalid access to packet, off=0 size=1, R1(id=1,off=0,r=0)"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 8
        if r3 > r2 goto out
        r4 = *(u32 *)(r1 + 0)
        r1 += r4
        r5 = r1
        r5 += 1
        if r5 > r2 goto out
        r0 = *(u8 *)(r1 + 0)
out:
        r0 = 2
        exit
