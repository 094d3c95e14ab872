; The syscall tracepoint record: __syscall_nr at offset 8.
; expect: accept
.prog tracepoint
        r0 = *(u32 *)(r1 + 8)
        r0 = 0
        exit
