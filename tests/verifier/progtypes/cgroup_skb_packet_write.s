; A cgroup skb program may not write the packet, even within bounds.
; expect: reject insn=6 "cannot write into packet"
.prog cgroup_skb
        r2 = *(u32 *)(r1 + 80)
        r1 = *(u32 *)(r1 + 76)
        r3 = r1
        r3 += 1
        r0 = 1
        if r3 > r2 goto out
        *(u8 *)(r1 + 0) = r0
out:
        exit
