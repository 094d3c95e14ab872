.prog xdp
        r2 = *(u32 *)(r1 + 4)   # data_end
        r1 = *(u32 *)(r1 + 0)   # data
        r0 = *(u8 *)(r1 + 12)   # EtherType, high byte: no bounds check!
        exit
