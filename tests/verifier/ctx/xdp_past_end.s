; xdp_md is 24 bytes: offset 24 is past the end.
; expect: reject insn=0 "invalid bpf_context access off=24 size=4"
.prog xdp
        r0 = *(u32 *)(r1 + 24)
        r0 = 0
        exit
