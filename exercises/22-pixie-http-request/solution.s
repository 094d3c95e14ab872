# Keep (return len) TCP packets whose payload starts with an HTTP method; drop (0) the rest.
.prog socket
        r6 = r1                 # the __sk_buff, for packet loads
        r0 = *(u8 *)skb[9]      # IP protocol
        if r0 != 6 goto drop
        r0 = *(u8 *)skb[0]
        r0 &= 0xf
        r0 <<= 2                # IP header length
        r7 = r0
        r0 = *(u8 *)skb[r7 + 12]
        r0 >>= 4
        r0 <<= 2                # TCP header length
        r7 += r0                # the payload's offset
        r0 = *(u32 *)skb[r7 + 0]
        if r0 == 0x47455420 goto keep  # "GET "
        if r0 == 0x504f5354 goto keep  # "POST"
        if r0 == 0x50555420 goto keep  # "PUT "
        if r0 == 0x48454144 goto keep  # "HEAD"
        if r0 == 0x44454c45 goto keep  # "DELE"
drop:
        r0 = 0
        exit
keep:
        r0 = *(u32 *)(r6 + 0)   # len: the whole packet
        exit
