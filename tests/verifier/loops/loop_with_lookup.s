; A bounded loop that looks up a hash map every iteration and checks for NULL each time.
; expect: accept
.prog xdp
.map m hash key=4 value=8 max=16
        r6 = 0
loop:
        *(u32 *)(r10 - 4) = r6
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        if r0 == 0 goto next
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
next:
        r6 += 1
        if r6 < 16 goto loop
        r0 = 2
        exit
