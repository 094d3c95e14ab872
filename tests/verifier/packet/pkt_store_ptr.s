; As root, storing a pointer into the packet is allowed (pointer leaks are an unprivileged concern).
; expect: accept
.prog tc
        r2 = *(u32 *)(r1 + 80)
        r1 = *(u32 *)(r1 + 76)
        r3 = r1
        r3 += 8
        if r3 > r2 goto out
        *(u64 *)(r1 + 0) = r10
out:
        r0 = 0
        exit
