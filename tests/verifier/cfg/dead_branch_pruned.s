; A branch whose outcome is known (r1 = 5 is never > 10): the dead edge is not explored, so the bad
; access on it is never checked.
; expect: accept
.prog syscall
        r1 = 5
        if r1 > 10 goto bad
        r0 = 0
        exit
bad:
        r0 = *(u64 *)(r1 + 0)
        exit
