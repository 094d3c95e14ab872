; A 2-byte read at offset 12 ends exactly at the 14 proven bytes.
; expect: accept
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 14
        if r3 > r2 goto out
        r0 = *(u16 *)(r1 + 12)
out:
        r0 = 2
        exit
