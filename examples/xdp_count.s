# Count packets per IP protocol in an array map and let every packet pass.
# Run it:  ebpf-lab run examples/xdp_count.s --packet examples/udp.pkt
.prog xdp
.map counts array key=4 value=8 max=256

        r2 = *(u32 *)(r1 + 4)           # data_end
        r1 = *(u32 *)(r1 + 0)           # data
        r3 = r1
        r3 += 34                        # Ethernet (14) + IPv4 header (20)
        if r3 > r2 goto pass            # the verifier insists on this bounds check
        r4 = *(u8 *)(r1 + 23)           # IPv4 protocol byte
        *(u32 *)(r10 - 4) = r4
        r2 = r10
        r2 += -4
        r1 = map(counts) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto pass
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
pass:
        r0 = 2                          # XDP_PASS
        exit
