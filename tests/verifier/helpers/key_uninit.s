; As root, a map key may be stack bytes never written (uninitialised stack reads are allowed).
; expect: accept
.prog xdp
.map m hash key=4 value=8 max=4
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        r0 = 2
        exit
