; A raw tracepoint reads its arguments as u64 args[]: args[1] is at offset 8.
; expect: accept
.prog raw_tracepoint
        r0 = *(u64 *)(r1 + 8)
        exit
