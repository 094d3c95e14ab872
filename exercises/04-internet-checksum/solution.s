# The Internet checksum (RFC 1071) of the buffer: r1 = buffer, r2 = length (even).
.prog mem
        r0 = 0                  # the sum
        r5 = 0                  # index, in bytes
loop:
        if r5 >= r2 goto fold
        r4 = r1
        r4 += r5
        r4 = *(u16 *)(r4 + 0)
        r4 = be16 r4            # network byte order
        r0 += r4
        r5 += 2
        goto loop
fold:
        r4 = r0
        r4 >>= 16
        r0 &= 0xffff
        r0 += r4
        r4 = r0
        r4 >>= 16
        r0 &= 0xffff
        r0 += r4
        r0 ^= 0xffff
        exit
