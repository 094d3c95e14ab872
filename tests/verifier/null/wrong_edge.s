; The check is there but the access is on the edge where r0 IS NULL.
; expect: reject insn=7 "R0 invalid mem access 'scalar'"
.prog tc
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 != 0 goto out
        r1 = *(u64 *)(r0 + 0)
out:
        r0 = 0
        exit
