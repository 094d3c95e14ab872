# Drop IPv4 packets whose source address is a key of `blocked`; pass the rest.
.prog xdp
.map blocked hash key=4 value=1 max=1024

        r2 = *(u32 *)(r1 + 0)   # data
        r3 = *(u32 *)(r1 + 4)   # data_end
        # TODO
        r0 = 2
        exit
