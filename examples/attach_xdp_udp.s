# Count UDP datagrams to 127.0.0.1 at XDP and print each one's destination port.
# Attach it:  sudo ebpf-lab attach examples/attach_xdp_udp.s --xdp lo --for 5s
.prog xdp
.map udp array key=4 value=8 max=1

        r2 = *(u32 *)(r1 + 4)           # data_end
        r1 = *(u32 *)(r1 + 0)           # data
        r3 = r1
        r3 += 42                        # Ethernet (14) + IPv4 (20) + UDP (8)
        if r3 > r2 goto pass
        r3 = *(u16 *)(r1 + 12)          # EtherType, network order
        if r3 != 0x0008 goto pass       # IPv4
        r3 = *(u8 *)(r1 + 23)
        if r3 != 17 goto pass           # UDP
        r3 = *(u32 *)(r1 + 30)
        if r3 != 0x0100007f goto pass   # to 127.0.0.1
        r6 = *(u16 *)(r1 + 36)          # destination port
        r6 = be16 r6
        r7 = 0
        *(u32 *)(r10 - 4) = r7
        r1 = map(udp) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto pass
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
        r1 = 0x74726f7020706475 ll      # "udp port"
        *(u64 *)(r10 - 24) = r1
        r1 = 0x0a642520                 # " %d\n"
        *(u64 *)(r10 - 16) = r1
        r1 = r10
        r1 += -24
        r2 = 13
        r3 = r6
        call bpf_trace_printk
pass:
        r0 = 2                          # XDP_PASS
        exit
