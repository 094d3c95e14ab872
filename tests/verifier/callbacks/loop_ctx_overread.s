; The callback reads its context (the caller's stack) past the 8 bytes the caller wrote: out of the caller's frame.
; expect: reject insn=11 "invalid read from stack R2 off=0 size=8"
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
        r1 = *(u64 *)(r2 + 8)
        r0 = 0
        exit
