; A loop of 1000 iterations is still fine: about 3000 processed instructions.
; expect: accept
.prog syscall
        r0 = 0
        r1 = 0
loop:
        r0 += r1
        r1 += 1
        if r1 < 1000 goto loop
        exit
