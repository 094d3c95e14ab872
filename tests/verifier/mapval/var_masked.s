; A variable offset masked to [0,7] plus an 8-byte read stays inside 16 bytes.
; expect: accept
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
        r0 += r1
        r1 = *(u64 *)(r0 + 0)
out:
        r0 = 0
        exit
