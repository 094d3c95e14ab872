; A callback cannot return a pointer to its stack, as no function can.
; expect: reject insn=12 "cannot return stack pointer to the caller"
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
        r0 = r10
        exit
