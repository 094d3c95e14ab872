; A loop whose exit test is a 32-bit compare.
; expect: accept
.prog tc
        r0 = 0
        w1 = 0
loop:
        r0 += 2
        w1 += 1
        if w1 < 50 goto loop
        r0 = 0
        exit
