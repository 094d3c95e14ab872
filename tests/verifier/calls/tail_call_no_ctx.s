; bpf_tail_call's first argument must be the context.
; expect: reject insn=4 "R1 type=scalar expected=ctx"
.prog xdp
.map jt prog_array key=4 value=4 max=4
        r1 = 0
        r2 = map(jt) ll
        r3 = 0
        call bpf_tail_call
        r0 = 2
        exit
