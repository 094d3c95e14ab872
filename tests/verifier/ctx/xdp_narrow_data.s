; A 2-byte read of xdp_md.data is refused (not a narrowable field).
; expect: reject insn=0 "invalid bpf_context access off=0 size=2"
.prog xdp
        r0 = *(u16 *)(r1 + 0)
        r0 = 0
        exit
