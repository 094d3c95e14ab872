; bpf_skb_change_tail may move the packet: a packet pointer from before the call is stale.
; expect: reject insn=10 "R7 invalid mem access 'scalar'"
.prog tc
        r6 = r1
        r7 = *(u32 *)(r1 + 76)
        r8 = *(u32 *)(r1 + 80)
        r1 = r7
        r1 += 1
        if r1 > r8 goto out
        r1 = r6
        r2 = 64
        r3 = 0
        call bpf_skb_change_tail
        r0 = *(u8 *)(r7 + 0)
out:
        r0 = 0
        exit
