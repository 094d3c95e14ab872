; A cgroup skb program may read the packet (from the network header) after a bounds check.
; expect: accept
.prog cgroup_skb
        r2 = *(u32 *)(r1 + 80)
        r1 = *(u32 *)(r1 + 76)
        r3 = r1
        r3 += 1
        r0 = 1
        if r3 > r2 goto out
        r0 = *(u8 *)(r1 + 0)
        r0 &= 1
out:
        exit
