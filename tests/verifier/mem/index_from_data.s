; An index read from the buffer itself, masked to [0,7], then an 8-byte read: ends by byte 15 of 16.
; mem_len: 16
; expect: accept
.prog mem
        r3 = *(u8 *)(r1 + 0)
        r3 &= 7
        r4 = r1
        r4 += r3
        r0 = *(u64 *)(r4 + 0)
        exit
