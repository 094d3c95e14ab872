; __sk_buff.len is read-only.
; expect: reject insn=1 "invalid bpf_context access off=0 size=4"
.prog socket
        r2 = 0
        *(u32 *)(r1 + 0) = r2
        r0 = 0
        exit
