; XDP's data_meta must be checked against data before it is read.
; expect: accept
.prog xdp
        r2 = *(u32 *)(r1 + 0)
        r1 = *(u32 *)(r1 + 8)
        r3 = r1
        r3 += 4
        if r3 > r2 goto out
        r0 = *(u32 *)(r1 + 0)
out:
        r0 = 2
        exit
