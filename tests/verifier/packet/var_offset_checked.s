; After adding the IP header length (0..60), check again: the new pointer gets its own range.
; expect: accept
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 34
        if r3 > r2 goto out
        r4 = *(u8 *)(r1 + 14)
        r4 &= 15
        r4 <<= 2
        r5 = r1
        r5 += r4
        r6 = r5
        r6 += 22
        if r6 > r2 goto out
        r0 = *(u16 *)(r5 + 20)
out:
        r0 = 2
        exit
