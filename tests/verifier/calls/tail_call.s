; A tail call through a prog_array map: r1 = ctx, r2 = the map, r3 = the index.
; expect: accept
.prog xdp
.map jt prog_array key=4 value=4 max=4
        r2 = map(jt) ll
        r3 = 0
        call bpf_tail_call
        r0 = 2
        exit
