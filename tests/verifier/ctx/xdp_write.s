; xdp_md is read-only.
; expect: reject insn=1 "invalid bpf_context access off=12 size=4"
.prog xdp
        r2 = 0
        *(u32 *)(r1 + 12) = r2
        r0 = 0
        exit
