; r3 = pkt + 14 after the check: r3 - 1 is byte 13, inside the range.
; expect: accept
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 14
        if r3 > r2 goto out
        r0 = *(u8 *)(r3 - 1)
out:
        r0 = 2
        exit
