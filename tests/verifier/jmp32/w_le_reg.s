; 32-bit compare with a register after zero-extension: r6 in [0,15].
; expect: accept
.prog syscall
.map m hash key=4 value=16 max=4
        r6 = *(u64 *)(r1 + 0)
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        w6 = w6
        w7 = 15
        if w6 > w7 goto out
        r0 += r6
        r0 = *(u8 *)(r0 + 0)
out:
        r0 = 0
        exit
