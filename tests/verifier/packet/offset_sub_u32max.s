; Subtracting 0xffffffff from a packet pointer moves it out of any packet.
; expect: reject insn=3 "math between pkt pointer and 4294967295 is not allowed"
.prog xdp
        r7 = *(u32 *)(r1 + 0)
        w5 = -1
        r4 = r7
        r4 -= r5
        r0 = 2
        exit
