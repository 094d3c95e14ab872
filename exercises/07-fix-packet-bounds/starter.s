# Pass IPv4 frames (XDP_PASS = 2), drop everything else (XDP_DROP = 1).
# The kernel verifier refuses this program: find out why, and fix it.
.prog xdp
        r2 = *(u32 *)(r1 + 0)   # data
        r3 = *(u32 *)(r1 + 4)   # data_end
        r4 = *(u16 *)(r2 + 12)  # EtherType
        r4 = be16 r4
        if r4 != 0x800 goto drop
        r0 = 2
        exit
drop:
        r0 = 1
        exit
