; cmpxchg compares with r0 and returns the old value in r0.
; expect: accept
.prog syscall
        r1 = 5
        *(u64 *)(r10 - 8) = r1
        r0 = 5
        r1 = 9
        r0 = cmpxchg_64(r10 - 8, r0, r1)
        exit
