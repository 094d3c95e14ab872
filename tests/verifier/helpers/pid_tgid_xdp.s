; On 6.18 bpf_get_current_pid_tgid is offered to XDP programs too.
; expect: accept
.prog xdp
        call bpf_get_current_pid_tgid
        r0 = 2
        exit
