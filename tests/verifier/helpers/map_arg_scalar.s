; The first argument must be a map pointer, not a number.
; expect: reject insn=4 "R1 type=scalar expected=map_ptr"
.prog xdp
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = 0
        call bpf_map_lookup_elem
        r0 = 2
        exit
