; After bpf_skb_change_head, reloading data and data_end and checking again makes the packet readable.
; expect: accept
.prog tc
        r6 = r1
        r2 = 14
        r3 = 0
        call bpf_skb_change_head
        r2 = *(u32 *)(r6 + 80)
        r1 = *(u32 *)(r6 + 76)
        r3 = r1
        r3 += 1
        if r3 > r2 goto out
        r0 = *(u8 *)(r1 + 0)
out:
        r0 = 0
        exit
