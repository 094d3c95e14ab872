; A 32-bit shift by 32 is an invalid shift.
; expect: reject insn=1 "invalid shift 32"
.prog syscall
        w0 = 1
        w0 <<= 32
        exit
