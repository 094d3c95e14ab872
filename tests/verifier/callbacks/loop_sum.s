; bpf_loop: the callback adds each index to a counter on the caller's stack and stops after 7 calls (0 goes on, 1 stops).
; expect: accept
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 8) = r1
        r1 = 10
        r2 = func(add) ll
        r3 = r10
        r3 += -8
        r4 = 0
        call bpf_loop
        r1 = *(u64 *)(r10 - 8)
        r0 <<= 32
        r0 += r1
        exit
add:
        r3 = *(u64 *)(r2 + 0)
        r3 += r1
        *(u64 *)(r2 + 0) = r3
        r0 = 0
        if r1 < 6 goto +1
        r0 = 1
        exit
