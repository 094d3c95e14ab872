; A callback returns 0 (go on) or 1 (stop): 2 is refused where the callback returns.
; expect: reject insn=12 "At callback return the register R0 has smin=2 smax=2 should have been in [0, 1]"
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
        r0 = 2
        exit
