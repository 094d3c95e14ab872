; Spilling r10 itself and dereferencing the filled copy: it is still a stack pointer.
; expect: accept
.prog tc
        *(u64 *)(r10 - 8) = r10
        r2 = *(u64 *)(r10 - 8)
        r0 = *(u64 *)(r2 - 8)
        r0 = 0
        exit
