# Count IPv4 packets per IP protocol in `counts`; every packet passes.
.prog xdp
.map counts array key=4 value=8 max=256

        r2 = *(u32 *)(r1 + 0)   # data
        r3 = *(u32 *)(r1 + 4)   # data_end
        r4 = r2
        r4 += 24
        if r4 > r3 goto pass    # too short for byte 23
        r4 = *(u16 *)(r2 + 12)
        r4 = be16 r4
        if r4 != 0x800 goto pass
        r4 = *(u8 *)(r2 + 23)   # IP protocol
        *(u32 *)(r10 - 4) = r4
        r2 = r10
        r2 += -4
        r1 = map(counts) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto pass
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
pass:
        r0 = 2                  # XDP_PASS
        exit
