; The record is read from stack bytes never written: a privileged loader (CAP_PERFMON) may do that.
; expect: accept
.prog xdp
.map events perf_event_array key=4 value=4 max=2
        r2 = map(events) ll
        r3 = 0
        r4 = r10
        r4 += -8
        r5 = 8
        call bpf_perf_event_output
        r0 = 2
        exit
