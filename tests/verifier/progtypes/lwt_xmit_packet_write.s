; lwt_xmit may write the packet after a bounds check.
; expect: accept
.prog lwt_xmit
        r2 = *(u32 *)(r1 + 80)
        r1 = *(u32 *)(r1 + 76)
        r3 = r1
        r3 += 1
        r0 = 0
        if r3 > r2 goto out
        *(u8 *)(r1 + 0) = r0
out:
        exit
