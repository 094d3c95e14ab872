; Storing an immediate into a writable __sk_buff field (mark) with BPF_ST is allowed in tc.
; expect: accept
.prog tc
        *(u32 *)(r1 + 8) = 7
        r0 = 0
        exit
