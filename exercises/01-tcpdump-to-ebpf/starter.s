# tcpdump -dd 'ip and udp' at XDP: pass IPv4 UDP packets (XDP_PASS = 2), drop the rest (XDP_DROP = 1).
.prog xdp
        r2 = *(u32 *)(r1 + 0)   # data
        r3 = *(u32 *)(r1 + 4)   # data_end
        # TODO: bounds check, then ldh [12] / jeq #0x800, ldb [23] / jeq #0x11
        r0 = 1
        exit
