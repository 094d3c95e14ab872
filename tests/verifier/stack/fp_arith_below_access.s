; An access 600 bytes below r10 is out of the stack.
; expect: reject insn=2 "invalid read from stack R1 off=-600 size=8"
.prog syscall
        r1 = r10
        r1 += -600
        r0 = *(u64 *)(r1 + 0)
        r0 = 0
        exit
