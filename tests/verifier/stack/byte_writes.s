; Byte stores then a 2-byte load of the same bytes.
; expect: accept
.prog xdp
        *(u8 *)(r10 - 1) = 1
        *(u8 *)(r10 - 2) = 2
        r0 = *(u16 *)(r10 - 2)
        r0 = 2
        r0 = 0
        exit
