; A 32-bit signed compare after a 32-bit load: w6 s< 16 still lets w6 be negative (a big u32).
; expect: reject insn=10 "R0 unbounded memory access, make sure to bounds check any such access"
.prog syscall
.map m hash key=4 value=16 max=4
        r6 = *(u32 *)(r1 + 0)
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        if w6 s> 15 goto out
        r0 += r6
        r0 = *(u8 *)(r0 + 0)
out:
        r0 = 0
        exit
