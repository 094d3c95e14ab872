; A 64-bit shift by 64 is an invalid shift.
; expect: reject insn=1 "invalid shift 64"
.prog syscall
        r0 = 1
        r0 <<= 64
        exit
