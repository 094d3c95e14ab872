# Keep (return len) TCP packets whose payload starts with an HTTP method; drop (0) the rest.
.prog socket
        r6 = r1                 # the __sk_buff, for packet loads
        r0 = *(u32 *)skb[40]    # payload of a 20-byte IP + 20-byte TCP header
        if r0 == 0x47455420 goto keep  # "GET "
        r0 = 0
        exit
keep:
        r0 = *(u32 *)(r6 + 0)   # len
        exit
