; The key a for_each_map_elem callback gets is read-only.
; expect: reject insn=13 "write to change key R2 not allowed"
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
        r1 = 1
        *(u32 *)(r2 + 0) = r1
        r0 = 0
        exit
