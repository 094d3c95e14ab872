; An arithmetic shift leaves a signed range [-8,7]: the offset may be negative.
; expect: reject insn=11 "R0 min value is negative, either use unsigned index or do a if (index >=0) check."
.prog syscall
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = *(u32 *)(r0 + 0)
        r1 <<= 60
        r1 s>>= 60
        r0 += r1
        r1 = *(u8 *)(r0 + 0)
out:
        r0 = 0
        exit
