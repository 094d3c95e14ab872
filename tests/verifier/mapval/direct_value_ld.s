; A direct map value (map_value(m, 8)) needs an array map, not a hash map.
; expect: reject "no direct value access support for this map type"
.prog tc
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = map_value(m, 8) ll
        r0 = *(u64 *)(r1 + 0)
out:
        r0 = 0
        exit
