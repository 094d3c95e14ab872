; pkt_end >= pkt + 14 jumps to the access: the taken edge proves the 14 bytes.
; expect: accept
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 14
        if r2 >= r3 goto ok
        goto out
ok:
        r0 = *(u8 *)(r1 + 13)
out:
        r0 = 2
        exit
