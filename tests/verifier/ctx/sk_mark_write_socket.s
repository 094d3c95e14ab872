; Socket filters may not write __sk_buff.mark.
; expect: reject insn=1 "invalid bpf_context access off=8 size=4"
.prog socket
        r2 = 7
        *(u32 *)(r1 + 8) = r2
        r0 = 0
        exit
