# tcpdump -dd 'ip and udp' at XDP: pass IPv4 UDP packets (XDP_PASS = 2), drop the rest (XDP_DROP = 1).
.prog xdp
        r2 = *(u32 *)(r1 + 0)   # data
        r3 = *(u32 *)(r1 + 4)   # data_end
        r4 = r2
        r4 += 24
        if r4 > r3 goto drop    # a classic ld past the end would end the filter: check first
        r4 = *(u16 *)(r2 + 12)  # ldh [12]
        r4 = be16 r4
        if r4 != 0x800 goto drop
        r4 = *(u8 *)(r2 + 23)   # ldb [23]
        if r4 != 0x11 goto drop
        r0 = 2                  # ret #262144: keep
        exit
drop:
        r0 = 1                  # ret #0: drop
        exit
