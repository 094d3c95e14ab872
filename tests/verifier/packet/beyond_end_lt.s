; pkt_end < pkt + 8 jumps to the access: the taken edge proves the pointer is past the end.
; expect: reject insn=7 "R3 offset is outside of the packet"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 8
        if r2 < r3 goto bad
        r0 = 2
        exit
bad:
        r0 = *(u8 *)(r3 - 1)
        r0 = 2
        exit
