; Masking a pointer with & is prohibited.
; expect: reject insn=7 "R0 bitwise operator &= on pointer prohibited"
.prog syscall
.map m hash key=4 value=16 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r0 &= -8
        r1 = *(u8 *)(r0 + 0)
out:
        r0 = 0
        exit
