# Drop IPv4 UDP packets to port 9999 (XDP_DROP = 1); pass everything else (XDP_PASS = 2).
.prog xdp
        r2 = *(u32 *)(r1 + 0)   # data
        r3 = *(u32 *)(r1 + 4)   # data_end
        r4 = r2
        r4 += 38                # Ethernet + IPv4 (no options) + UDP ports
        if r4 > r3 goto pass
        r4 = *(u16 *)(r2 + 12)
        r4 = be16 r4
        if r4 != 0x800 goto pass
        r4 = *(u8 *)(r2 + 23)
        if r4 != 17 goto pass
        r4 = *(u16 *)(r2 + 36)  # UDP destination port
        r4 = be16 r4
        if r4 != 9999 goto pass
        r0 = 1                  # XDP_DROP
        exit
pass:
        r0 = 2                  # XDP_PASS
        exit
