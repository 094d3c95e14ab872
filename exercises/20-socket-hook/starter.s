# Count packets per IP protocol in `counts`, as a socket filter; keep every packet whole.
# This is exercise 5's XDP code moved to the socket hook as is: the verifier refuses it.
.prog socket
.map counts array key=4 value=8 max=256

        r2 = *(u32 *)(r1 + 76)  # __sk_buff.data
        r3 = *(u32 *)(r1 + 80)  # __sk_buff.data_end
        r4 = r2
        r4 += 10
        if r4 > r3 goto out
        r4 = *(u8 *)(r2 + 9)    # IP protocol
        *(u32 *)(r10 - 4) = r4
        r2 = r10
        r2 += -4
        r1 = map(counts) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
out:
        r0 = -1                 # keep everything
        exit
