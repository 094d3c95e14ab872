; bpf_tail_call needs a prog_array, not a hash map.
; expect: reject insn=3 "expected prog array map for tail call"
.prog xdp
.map m hash key=4 value=4 max=4
        r2 = map(m) ll
        r3 = 0
        call bpf_tail_call
        r0 = 2
        exit
