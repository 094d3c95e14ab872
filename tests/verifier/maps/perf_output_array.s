; bpf_perf_event_output needs a perf event array, not an array.
; expect: reject insn=8 "cannot pass map_type 2 into func bpf_perf_event_output#25"
.prog xdp
.map a array key=4 value=4 max=2
        r2 = 1
        *(u64 *)(r10 - 8) = r2
        r2 = map(a) ll
        r3 = 0
        r4 = r10
        r4 += -8
        r5 = 8
        call bpf_perf_event_output
        r0 = 2
        exit
