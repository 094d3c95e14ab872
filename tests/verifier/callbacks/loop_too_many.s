; 2^23 + a bit iterations: the verifier accepts the call, bpf_loop returns -E2BIG at run time.
; expect: accept
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        r1 = 0x900000
        r2 = func(cb) ll
        r3 = r10
        r3 += -8
        r4 = 0
        call bpf_loop
        r0 = 0
        exit
cb:
        r0 = 0
        exit
