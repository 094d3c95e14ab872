; fp-512 is the lowest valid 8-byte slot.
; expect: accept
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 512) = r1
        r0 = 0
        exit
