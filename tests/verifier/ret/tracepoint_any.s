; Tracepoint programs have no fixed return range: any scalar is accepted.
; expect: accept
.prog tracepoint
        r0 = 7
        exit
