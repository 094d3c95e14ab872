; Subtracting two packet pointers gives a scalar: the packet length.
; expect: accept
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r2 -= r1
        r0 = r2
        r0 = 2
        exit
