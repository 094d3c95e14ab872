; bpf_redirect_map takes devmap, cpumap and xskmap maps only.
; expect: reject insn=4 "cannot pass map_type 1 into func bpf_redirect_map#51"
.prog xdp
.map h hash key=4 value=4 max=4
        r1 = map(h) ll
        r2 = 0
        r3 = 0
        call bpf_redirect_map
        exit
