; Atomics need alignment: a 64-bit atomic at fp-12.
; expect: reject insn=4 "misaligned stack access off 0+0+-12 size 8"
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 16) = r1
        *(u64 *)(r10 - 8) = r1
        r1 = 1
        lock *(u64 *)(r10 - 12) += r1
        r0 = 0
        exit
