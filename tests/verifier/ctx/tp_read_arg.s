; A syscall tracepoint's args[0] at offset 16.
; expect: accept
.prog tracepoint
        r0 = *(u64 *)(r1 + 16)
        r0 = 0
        exit
