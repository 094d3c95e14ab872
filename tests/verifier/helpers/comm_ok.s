; bpf_get_current_comm writes 16 bytes into a stack buffer (uninitialised is fine for an output).
; expect: accept
.prog tracepoint
        r1 = r10
        r1 += -16
        r2 = 16
        call bpf_get_current_comm
        r0 = *(u64 *)(r10 - 16)
        r0 = 0
        exit
