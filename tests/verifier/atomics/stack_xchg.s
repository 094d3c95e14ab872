; An atomic exchange on the stack returns the old value in the source register.
; expect: accept
.prog syscall
        r1 = 5
        *(u64 *)(r10 - 8) = r1
        r1 = 9
        r1 = xchg_64(r10 - 8, r1)
        r0 = r1
        exit
