; bpf_perf_event_output to the running CPU's event (BPF_F_CURRENT_CPU), 8 bytes from the stack.
; expect: accept
.prog xdp
.map events perf_event_array key=4 value=4 max=2
        r2 = 1
        *(u64 *)(r10 - 8) = r2
        r2 = map(events) ll
        r3 = 0xffffffff ll
        r4 = r10
        r4 += -8
        r5 = 8
        call bpf_perf_event_output
        r0 = 2
        exit
