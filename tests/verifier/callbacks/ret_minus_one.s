; A callback's r0 is checked as a 64-bit number in [0, 1]: -1 is refused.
; expect: reject insn=12 "At callback return the register R0 has smin=-1 smax=-1 should have been in [0, 1]"
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        r1 = 10
        r2 = func(cb) ll
        r3 = r10
        r3 += -8
        r4 = 0
        call bpf_loop
        r0 = 0
        exit
cb:
        r0 = -1
        exit
