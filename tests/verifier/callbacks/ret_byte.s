; A callback returning one byte of the value: [0, 255] is not [0, 1].
; expect: reject insn=13 "At callback return the register R0 has smin=0 smax=255 should have been in [0, 1]"
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
        r0 = *(u8 *)(r3 + 0)
        exit
