; An 8-byte write at fp-4 runs 4 bytes past the top of the stack.
; expect: reject insn=1 "misaligned stack access off 0+0+-4 size 8"
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 4) = r1
        r0 = 0
        exit
