; Arithmetic on pkt_end is refused.
; expect: reject insn=1 "R2 pointer arithmetic on pkt_end prohibited"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r2 += -1
        r0 = 2
        exit
