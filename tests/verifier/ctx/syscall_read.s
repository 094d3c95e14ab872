; A syscall program's context is a plain buffer: reads are fine.
; expect: accept
.prog syscall
        r0 = *(u64 *)(r1 + 0)
        r0 = 0
        exit
