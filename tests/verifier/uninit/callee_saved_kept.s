; r6-r9 survive a helper call: keep the context in r6 across it.
; expect: accept
.prog xdp
        r6 = r1
        call bpf_ktime_get_ns
        r0 = *(u32 *)(r6 + 0)
        r0 = 2
        exit
