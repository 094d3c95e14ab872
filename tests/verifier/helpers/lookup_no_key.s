; bpf_map_lookup_elem without its key argument: r2 was never set.
; expect: reject insn=2 "R2 !read_ok"
.prog xdp
.map m hash key=4 value=8 max=4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        r0 = 2
        exit
