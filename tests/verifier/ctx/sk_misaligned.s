; A 4-byte read at offset 2 straddles two fields: refused.
; expect: reject insn=0 "invalid bpf_context access off=2 size=4"
.prog socket
        r0 = *(u32 *)(r1 + 2)
        r0 = 0
        exit
