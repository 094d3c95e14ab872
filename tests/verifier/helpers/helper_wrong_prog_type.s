; bpf_xdp_adjust_head is for XDP programs only: a socket filter may not call it.
; expect: reject insn=1 "program of this type cannot use helper bpf_xdp_adjust_head#44"
.prog socket
        r2 = 0
        call bpf_xdp_adjust_head
        r0 = 0
        exit
