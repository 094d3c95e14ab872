; A packet pointer kept across bpf_xdp_adjust_head is invalidated: using it is refused.
; expect: reject insn=9 "R7 invalid mem access 'scalar'"
.prog xdp
        r6 = r1
        r2 = *(u32 *)(r1 + 4)
        r7 = *(u32 *)(r1 + 0)
        r3 = r7
        r3 += 1
        if r3 > r2 goto out
        r1 = r6
        r2 = 4
        call bpf_xdp_adjust_head
        r0 = *(u8 *)(r7 + 0)
out:
        r0 = 2
        exit
