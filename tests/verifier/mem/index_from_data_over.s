; The same index masked to [0,15]: an 8-byte read can end at byte 23 of 16.
; mem_len: 16
; expect: reject insn=4 "invalid access to map value, value_size=16 off=15 size=8"
.prog mem
        r3 = *(u8 *)(r1 + 0)
        r3 &= 15
        r4 = r1
        r4 += r3
        r0 = *(u64 *)(r4 + 0)
        exit
