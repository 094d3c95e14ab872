; The range proven for r3 = r1 + 34 carries to r1 (same packet pointer id): parse Ethernet + IPv4.
; expect: accept
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 34
        if r3 > r2 goto out
        r0 = *(u8 *)(r1 + 23)
        r4 = *(u16 *)(r1 + 12)
out:
        r0 = 2
        exit
