; Kernel quirk: a tracepoint ctx read at a negative offset passes (the bound check compares as unsigned).
; expect: accept
.prog tracepoint
        r0 = *(u64 *)(r1 - 8)
        r0 = 0
        exit
