# Return the price of the product whose id is the buffer's first 4 bytes (0 when unknown).
.prog mem
.map prices hash key=4 value=8 max=64

        r6 = *(u32 *)(r1 + 0)   # product id
        *(u32 *)(r10 - 4) = r6
        r1 = map(prices) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto unknown # NULL: no such product
        r0 = *(u64 *)(r0 + 0)   # the price
        exit
unknown:
        r0 = 0
        exit
