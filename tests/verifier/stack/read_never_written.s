; As root, reading stack bytes never written is allowed (the value is whatever was there).
; expect: accept
.prog syscall
        r0 = *(u64 *)(r10 - 8)
        r0 = 0
        exit
