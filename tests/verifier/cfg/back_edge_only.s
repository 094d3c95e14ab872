; A backward jump to an earlier instruction is fine as long as the loop is bounded.
; expect: accept
.prog syscall
        r0 = 3
loop:
        r0 += -1
        if r0 != 0 goto loop
        exit
