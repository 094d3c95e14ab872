; xdp_md.data is a u32 field: an 8-byte read is refused.
; expect: reject insn=0 "invalid bpf_context access off=0 size=8"
.prog xdp
        r0 = *(u64 *)(r1 + 0)
        r0 = 0
        exit
