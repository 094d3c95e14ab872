# Look the destination (address, port, protocol) up in `services`; on a hit rewrite it to the
# backend and return XDP_TX (3); otherwise XDP_PASS (2), packet untouched.
.prog xdp
.map services hash key=8 value=8 max=1024

        r6 = *(u32 *)(r1 + 0)   # data
        r3 = *(u32 *)(r1 + 4)   # data_end
        r4 = r6
        r4 += 38                # Ethernet + IPv4 (no options) + both ports
        if r4 > r3 goto pass
        r4 = *(u16 *)(r6 + 12)
        r4 = be16 r4
        if r4 != 0x800 goto pass
        r7 = *(u8 *)(r6 + 23)   # protocol
        if r7 == 6 goto service
        if r7 != 17 goto pass
service:
        r4 = *(u32 *)(r6 + 30)  # destination address, network order
        *(u32 *)(r10 - 8) = r4
        r4 = *(u16 *)(r6 + 36)  # destination port, network order
        *(u16 *)(r10 - 4) = r4
        *(u8 *)(r10 - 2) = r7
        *(u8 *)(r10 - 1) = 0
        r1 = map(services) ll
        r2 = r10
        r2 += -8
        call bpf_map_lookup_elem
        if r0 == 0 goto pass
        r4 = *(u32 *)(r0 + 0)   # backend address
        *(u32 *)(r6 + 30) = r4
        r4 = *(u16 *)(r0 + 4)   # backend port
        *(u16 *)(r6 + 36) = r4
        r0 = 3                  # XDP_TX
        exit
pass:
        r0 = 2                  # XDP_PASS
        exit
