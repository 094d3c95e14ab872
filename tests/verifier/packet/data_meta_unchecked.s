; Reading data_meta without comparing it with data is refused.
; expect: reject insn=1 "invalid access to packet, off=0 size=4, R1(id=0,off=0,r=0)"
.prog xdp
        r1 = *(u32 *)(r1 + 8)
        r0 = *(u32 *)(r1 + 0)
        r0 = 2
        exit
