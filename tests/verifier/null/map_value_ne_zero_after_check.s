; A map value pointer already checked: against 0 again, the kernel knows the answer, and the
; edge that reads an unwritten r3 is dead.
; expect: accept
.prog xdp
.map m array key=4 value=8 max=1
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        if r0 != 0 goto ok
        r0 = *(u32 *)(r3 + 0)
ok:
        r0 = 2
        exit
out:
        r0 = 1
        exit
