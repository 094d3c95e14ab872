; With an empty input, a program that only looks at the length is fine.
; mem_len: 0
; expect: accept
.prog mem
        r0 = r2
        exit
