; A direct map value at offset 8 of a 16-byte value: an 8-byte read at +4 runs past.
; expect: reject insn=2 "invalid access to map value, value_size=16 off=12 size=8"
.prog tc
.map m array key=4 value=16 max=1
        r1 = map_value(m, 8) ll
        r0 = *(u64 *)(r1 + 4)
        r0 = 0
        exit
