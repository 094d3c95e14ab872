; bpf_get_current_pid_tgid is available to tracepoint programs.
; expect: accept
.prog tracepoint
        call bpf_get_current_pid_tgid
        r0 = 0
        exit
