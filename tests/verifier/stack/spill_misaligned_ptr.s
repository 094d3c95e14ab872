; A pointer spilled at a misaligned slot (fp-12) is refused: pointers spill to 8-byte slots.
; expect: reject insn=0 "misaligned stack access off 0+0+-12 size 8"
.prog tc
        *(u64 *)(r10 - 12) = r1
        r0 = 0
        exit
