; No comparison with data_end at all: even byte 0 is not proven.
; expect: reject insn=4 "invalid access to packet, off=0 size=1, R1(id=0,off=0,r=0)"
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 14

        r0 = *(u8 *)(r1 + 0)
out:
        r0 = 2
        exit
