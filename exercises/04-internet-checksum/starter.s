# The Internet checksum (RFC 1071) of the buffer: r1 = buffer, r2 = length (even).
.prog mem
        r0 = 0                  # the sum
        # TODO: add the 16-bit big-endian words, fold the carries, complement
        exit
