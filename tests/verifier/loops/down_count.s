; Counting down to zero with a signed compare.
; expect: accept
.prog xdp
        r1 = 20
loop:
        r1 += -1
        if r1 s> 0 goto loop
        r0 = 2
        exit
