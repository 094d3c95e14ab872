# Return the smallest byte of the buffer (255 when it is empty).
.prog mem
        r0 = 255                # nothing seen yet
        r5 = 0                  # index
loop:
        if r5 >= r2 goto done
        r4 = r1
        r4 += r5
        r4 = *(u8 *)(r4 + 0)
        if r4 >= r0 goto next
        r0 = r4                 # a new minimum
next:
        r5 += 1
        goto loop
done:
        exit
