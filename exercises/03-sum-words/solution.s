# Return the sum of the buffer's 32-bit little-endian words (r1 = buffer, r2 = length).
.prog mem
        r0 = 0
        r5 = 0                  # index, in bytes
loop:
        if r5 >= r2 goto done
        r4 = r1
        r4 += r5
        r4 = *(u32 *)(r4 + 0)
        r0 += r4
        r5 += 4
        goto loop
done:
        exit
