# Drop IPv4 packets whose source address is a key of `blocked`; pass the rest.
.prog xdp
.map blocked hash key=4 value=1 max=1024

        r2 = *(u32 *)(r1 + 0)   # data
        r3 = *(u32 *)(r1 + 4)   # data_end
        r4 = r2
        r4 += 34
        if r4 > r3 goto pass
        r4 = *(u16 *)(r2 + 12)
        r4 = be16 r4
        if r4 != 0x800 goto pass
        r4 = *(u32 *)(r2 + 26)  # source address, bytes as in the packet
        *(u32 *)(r10 - 4) = r4
        r1 = map(blocked) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto pass
        r0 = 1                  # XDP_DROP
        exit
pass:
        r0 = 2                  # XDP_PASS
        exit
