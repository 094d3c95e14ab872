; r3 = pkt + 14 after the check: reading at r3 + 0 is byte 14, past the range.
; expect: reject insn=5 "invalid access to packet, off=14 size=1, R3(id=0,off=14,r=14)"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 14
        if r3 > r2 goto out
        r0 = *(u8 *)(r3 + 0)
out:
        r0 = 2
        exit
