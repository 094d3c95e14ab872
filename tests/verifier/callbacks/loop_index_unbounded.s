; The loop index is any u32 for the verifier (the loop count does not bound it): using it to index the stack needs a check.
; expect: reject insn=13 "math between fp pointer and register with unbounded min value is not allowed"
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        *(u64 *)(r10 - 16) = r1
        r1 = 2
        r2 = func(cb) ll
        r3 = r10
        r3 += -16
        r4 = 0
        call bpf_loop
        r0 = *(u64 *)(r10 - 8)
        exit
cb:
        r1 <<= 3
        r2 += r1
        r3 = 7
        *(u64 *)(r2 + 0) = r3
        r0 = 0
        exit
