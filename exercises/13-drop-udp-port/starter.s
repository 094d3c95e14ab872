# Drop IPv4 UDP packets to port 9999 (XDP_DROP = 1); pass everything else (XDP_PASS = 2).
.prog xdp
        r2 = *(u32 *)(r1 + 0)   # data
        r3 = *(u32 *)(r1 + 4)   # data_end
        # TODO
        r0 = 2
        exit
