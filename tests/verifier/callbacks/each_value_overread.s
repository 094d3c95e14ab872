; The value is value_size bytes: reading past it is refused.
; expect: reject insn=12 "invalid access to map value, value_size=8 off=8 size=8"
.prog syscall
.map vals array key=4 value=8 max=4
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        r1 = map(vals) ll
        r2 = func(cb) ll
        r3 = r10
        r3 += -8
        r4 = 0
        call bpf_for_each_map_elem
        r0 = 0
        exit
cb:
        r1 = *(u64 *)(r3 + 8)
        r0 = 0
        exit
