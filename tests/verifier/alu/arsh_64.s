; An arithmetic shift by 64 is invalid.
; expect: reject insn=1 "invalid shift 64"
.prog syscall
        r0 = -1
        r0 s>>= 64
        exit
