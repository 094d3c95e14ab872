; A 4-byte read at offset 12 goes 2 bytes past the 14 proven bytes.
; expect: reject insn=5 "invalid access to packet, off=12 size=4, R1(id=0,off=12,r=14)"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 14
        if r3 > r2 goto out
        r0 = *(u32 *)(r1 + 12)
out:
        r0 = 2
        exit
