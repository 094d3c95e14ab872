; lwt_in may read the packet after a bounds check.
; expect: accept
.prog lwt_in
        r2 = *(u32 *)(r1 + 80)
        r1 = *(u32 *)(r1 + 76)
        r3 = r1
        r3 += 2
        r0 = 0
        if r3 > r2 goto out
        r0 = *(u16 *)(r1 + 0)
out:
        r0 = 0
        exit
