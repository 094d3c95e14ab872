; The key is key_size bytes: reading 8 of a 4-byte key is refused.
; expect: reject insn=12 "invalid access to map key, key_size=4 off=0 size=8"
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
        r1 = *(u64 *)(r2 + 0)
        r0 = 0
        exit
