; bpf_skb_adjust_room changes the packet: the old data_end is stale too.
; expect: reject insn=10 "R7 invalid mem access 'scalar'"
.prog tc
        r6 = r1
        r7 = *(u32 *)(r1 + 76)
        r8 = *(u32 *)(r1 + 80)
        r2 = 8
        r3 = 0
        r4 = 0
        call bpf_skb_adjust_room
        r1 = r7
        r1 += 1
        if r1 > r8 goto out
        r0 = *(u8 *)(r7 + 0)
out:
        r0 = 0
        exit
