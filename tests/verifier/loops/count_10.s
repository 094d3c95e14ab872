; A bounded loop: the verifier walks all 10 iterations (each with a different counter value).
; expect: accept
.prog syscall
        r0 = 0
        r1 = 0
loop:
        r0 += r1
        r1 += 1
        if r1 < 10 goto loop
        exit
