; The stack is 512 bytes: fp-520 is below it.
; expect: reject insn=1 "invalid write to stack R10 off=-520 size=8"
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 520) = r1
        r0 = 0
        exit
