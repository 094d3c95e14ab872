; A tail call from a subprogram is allowed when the frames use little stack.
; expect: reject "tail_call is not allowed in subprogs without BTF"
.prog xdp
.map jt prog_array key=4 value=4 max=4
        call f
        r0 = 2
        exit
f:
        r2 = map(jt) ll
        r3 = 0
        call bpf_tail_call
        r0 = 0
        exit
