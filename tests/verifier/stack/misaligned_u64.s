; Stack accesses must be aligned to their size (the verifier enforces it on the stack).
; expect: reject insn=1 "misaligned stack access off 0+0+-12 size 8"
.prog xdp
        r1 = 0
        *(u64 *)(r10 - 12) = r1
        r0 = 2
        r0 = 0
        exit
