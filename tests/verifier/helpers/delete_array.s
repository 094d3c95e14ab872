; bpf_map_delete_elem on an array map is allowed by the verifier (it fails at run time).
; expect: accept
.prog socket
.map m array key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r1 = map(m) ll
        r2 = r10
        r2 += -4
        call bpf_map_delete_elem
        r0 = 0
        exit
