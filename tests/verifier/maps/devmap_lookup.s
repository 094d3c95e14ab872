; A devmap can be looked into from XDP (the value is the device's ifindex).
; expect: accept
.prog xdp
.map ports devmap key=4 value=4 max=4
        r1 = 0
        *(u32 *)(r10 - 4) = r1
        r1 = map(ports) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = *(u32 *)(r0 + 0)
out:
        r0 = 2
        exit
