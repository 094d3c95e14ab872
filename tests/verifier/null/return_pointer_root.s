; As root, returning a (possibly NULL) map value pointer from a tracepoint program is allowed.
; expect: accept
.prog tracepoint
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        exit
