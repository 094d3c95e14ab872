; A shift by a register of any value passes the verifier (the count is masked at run time).
; expect: accept
.prog syscall
        r0 = 1
        r1 = 99
        r0 <<= r1
        r0 = 0
        exit
