; A loop bound from the context masked to [0,15]: the verifier tries every bound value up to 15.
; expect: accept
.prog syscall
        r2 = *(u64 *)(r1 + 0)
        r2 &= 15
        r0 = 0
        r1 = 0
loop:
        r0 += 1
        r1 += 1
        if r1 < r2 goto loop
        exit
