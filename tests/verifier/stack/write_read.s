; Write a stack slot, read it back.
; expect: accept
.prog syscall
        r1 = 5
        *(u64 *)(r10 - 8) = r1
        r0 = *(u64 *)(r10 - 8)
        r0 = 0
        exit
