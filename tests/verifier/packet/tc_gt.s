; Same bounds check but with __sk_buff: data at 76 and data_end at 80.
; expect: accept
.prog tc
        r2 = *(u32 *)(r1 + 80)
        r1 = *(u32 *)(r1 + 76)
        r3 = r1
        r3 += 14
        if r3 > r2 goto out
        r0 = *(u32 *)(r1 + 10)
out:
        r0 = 2
        exit
