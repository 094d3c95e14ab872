; A checked packet pointer spilled and filled keeps its proven range.
; expect: accept
.prog xdp
        r2 = *(u32 *)(r1 + 4)
        r1 = *(u32 *)(r1 + 0)
        r3 = r1
        r3 += 8
        if r3 > r2 goto out
        *(u64 *)(r10 - 8) = r1
        r4 = *(u64 *)(r10 - 8)
        r0 = *(u64 *)(r4 + 0)
out:
        r0 = 2
        exit
