# Count IPv4 packets per IP protocol in `counts`; every packet passes.
.prog xdp
.map counts array key=4 value=8 max=256

        r2 = *(u32 *)(r1 + 0)   # data
        r3 = *(u32 *)(r1 + 4)   # data_end
        # TODO: bounds, EtherType, protocol byte, lookup, atomic add
        r0 = 2                  # XDP_PASS
        exit
