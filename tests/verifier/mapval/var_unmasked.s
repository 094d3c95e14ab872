; An unmasked 32-bit offset: the kernel wants it bounded (var &= const).
; expect: reject insn=9 "R0 unbounded memory access, make sure to bounds check any such access"
.prog syscall
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = *(u32 *)(r0 + 0)
        r0 += r1
        r1 = *(u8 *)(r0 + 0)
out:
        r0 = 0
        exit
