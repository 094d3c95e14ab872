; An atomic add through the lookup result before the NULL check.
; expect: reject insn=7 "R0 invalid mem access 'map_value_or_null'"
.prog socket
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
        if r0 == 0 goto out
        r1 = 1
out:
        r0 = 0
        exit
