; A 32-bit returned value from a tracepoint.
; expect: accept
.prog tracepoint
        w0 = -1
        exit
