; bpf_loop's context may be NULL (the callback then gets 0 in r2).
; expect: accept
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        r1 = 10
        r2 = func(cb) ll
        r3 = 0
        r4 = 0
        call bpf_loop
        r0 = 0
        exit
cb:
        r0 = 0
        exit
