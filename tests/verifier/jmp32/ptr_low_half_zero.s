; A non-NULL pointer can still have zero low 32 bits: `if w0 != 0` on a map value pointer is not
; decided, so the edge where w0 == 0 is explored (and its 32-bit pointer arithmetic refused).
; expect: reject insn=9 "R3 32-bit pointer arithmetic prohibited"
.prog xdp
.map m hash key=4 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r3 = 5
        if w0 != 0 goto out
        w3 += w0
out:
        r0 = 2
        exit
