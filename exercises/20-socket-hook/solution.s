# Count packets per IP protocol in `counts`, as a socket filter; keep every packet whole.
.prog socket
.map counts array key=4 value=8 max=256

        r6 = r1                 # the __sk_buff, where packet loads find it
        r0 = *(u8 *)skb[9]      # IP protocol: byte 9 of the IP header (too short: exit 0)
        *(u32 *)(r10 - 4) = r0
        r2 = r10
        r2 += -4
        r1 = map(counts) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
out:
        r0 = *(u32 *)(r6 + 0)   # __sk_buff.len: keep the whole packet
        exit
