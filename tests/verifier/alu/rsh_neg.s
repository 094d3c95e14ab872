; A shift by a negative immediate is invalid.
; expect: reject insn=1 "invalid shift -1"
.prog syscall
        r0 = 1
        r0 >>= -1
        exit
