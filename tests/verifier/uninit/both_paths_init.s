; r0 is written on both paths before exit.
; expect: accept
.prog socket
        r2 = *(u32 *)(r1 + 0)
        r0 = 0
        if r2 > 10 goto out
        r0 = 1
out:
        exit
