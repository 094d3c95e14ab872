; bpf_redirect in XDP returns an action; the program returns it.
; expect: accept
.prog xdp
        r1 = 1
        r2 = 0
        call bpf_redirect
        exit
