# Return the sum of the buffer's 32-bit little-endian words (r1 = buffer, r2 = length).
.prog mem
        r0 = 0
        # TODO: a loop over the words
        exit
