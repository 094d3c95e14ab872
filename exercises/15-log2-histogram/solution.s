# Count the latency (u64 ns at the buffer's start) in bucket floor(log2) of `hist`; return the bucket.
.prog mem
.map hist array key=4 value=8 max=64

        r6 = *(u64 *)(r1 + 0)   # the latency
        r7 = 0                  # the bucket
        r8 = r6
        r8 >>= 32
        if r8 == 0 goto b16
        r7 += 32
        r6 = r8
b16:
        r8 = r6
        r8 >>= 16
        if r8 == 0 goto b8
        r7 += 16
        r6 = r8
b8:
        r8 = r6
        r8 >>= 8
        if r8 == 0 goto b4
        r7 += 8
        r6 = r8
b4:
        r8 = r6
        r8 >>= 4
        if r8 == 0 goto b2
        r7 += 4
        r6 = r8
b2:
        r8 = r6
        r8 >>= 2
        if r8 == 0 goto b1
        r7 += 2
        r6 = r8
b1:
        r8 = r6
        r8 >>= 1
        if r8 == 0 goto count
        r7 += 1
count:
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
