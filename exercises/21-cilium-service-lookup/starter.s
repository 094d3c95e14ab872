# Look the destination (address, port, protocol) up in `services`; on a hit rewrite it to the
# backend and return XDP_TX (3); otherwise XDP_PASS (2), packet untouched.
.prog xdp
.map services hash key=8 value=8 max=1024

        r6 = *(u32 *)(r1 + 0)   # data
        r3 = *(u32 *)(r1 + 4)   # data_end
        # TODO
        r0 = 2
        exit
