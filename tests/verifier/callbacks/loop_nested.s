; A bpf_loop whose callback runs a bpf_loop of its own: each visit of the inner callback is checked in the frame below.
; expect: accept
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        r1 = 1000
        r2 = func(outer) ll
        r3 = r10
        r3 += -8
        r4 = 0
        call bpf_loop
        r0 = *(u64 *)(r10 - 8)
        exit
outer:
        r1 = 3
        r3 = r2
        r2 = func(inner) ll
        r4 = 0
        call bpf_loop
        r0 = 0
        exit
inner:
        r3 = *(u64 *)(r2 + 0)
        r3 += r1
        *(u64 *)(r2 + 0) = r3
        r0 = 0
        exit
