; The 16-byte buffer ends at 16: an 8-byte read at 12 runs past it.
; mem_len: 16
; expect: reject insn=0 "invalid access to map value, value_size=16 off=12 size=8"
.prog mem
        r0 = *(u64 *)(r1 + 12)
        r0 = 0
        exit
