; bpf_xdp_adjust_head in XDP: afterwards every packet pointer must be reloaded and rechecked.
; expect: accept
.prog xdp
        r6 = r1
        r2 = 4
        call bpf_xdp_adjust_head
        r2 = *(u32 *)(r6 + 4)
        r1 = *(u32 *)(r6 + 0)
        r3 = r1
        r3 += 1
        if r3 > r2 goto out
        r0 = *(u8 *)(r1 + 0)
out:
        r0 = 2
        exit
