# Count the latency (u64 ns at the buffer's start) in bucket floor(log2) of `hist`; return the bucket.
.prog mem
.map hist array key=4 value=8 max=64

        r6 = *(u64 *)(r1 + 0)   # the latency
        r7 = 0                  # TODO: the bucket
        *(u32 *)(r10 - 4) = r7
        r1 = map(hist) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
out:
        r0 = r7
        exit
