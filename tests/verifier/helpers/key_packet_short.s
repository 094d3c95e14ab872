; A packet key needs key_size proven bytes: only 2 of 4 are proven.
; expect: reject insn=8 "invalid access to packet, off=0 size=4, R2(id=0,off=0,r=2)"
.prog xdp
.map m hash key=4 value=8 max=4
        r2 = *(u32 *)(r1 + 4)
        r6 = *(u32 *)(r1 + 0)
        r3 = r6
        r3 += 2
        if r3 > r2 goto out
        r2 = r6
        r1 = map(m) ll
        call bpf_map_lookup_elem
out:
        r0 = 2
        exit
