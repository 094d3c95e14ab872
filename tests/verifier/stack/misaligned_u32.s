; A 4-byte write at fp-6 is misaligned.
; expect: reject insn=1 "misaligned stack access off 0+0+-6 size 4"
.prog xdp
        r1 = 0
        *(u32 *)(r10 - 6) = r1
        r0 = 2
        r0 = 0
        exit
