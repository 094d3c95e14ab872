; On the edge where pkt + 8 > pkt_end, the compared pointer is known to be past the end: any
; access through it is refused with a message of its own.
; expect: reject insn=7 "R3 offset is outside of the packet"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 8
        if r3 > r2 goto bad
        r0 = 2
        exit
bad:
        r0 = *(u8 *)(r3 - 8)
        r0 = 2
        exit
