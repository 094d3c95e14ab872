; Offsets past the end of __sk_buff are refused.
; expect: reject insn=0 "invalid bpf_context access off=400 size=4"
.prog socket
        r0 = *(u32 *)(r1 + 400)
        r0 = 0
        exit
