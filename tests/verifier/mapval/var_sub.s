; Subtracting a bounded scalar from a map value pointer: the kernel loses the bound on the negated offset.
; expect: reject insn=11 "R0 unbounded memory access, make sure to bounds check any such access"
.prog syscall
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = *(u32 *)(r0 + 0)
        r1 &= 7
        r0 += 8
        r0 -= r1
        r1 = *(u8 *)(r0 + 0)
out:
        r0 = 0
        exit
