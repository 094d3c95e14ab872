; Socket filters have no direct packet access: __sk_buff.data is not readable there.
; expect: reject insn=0 "invalid bpf_context access off=76 size=4"
.prog socket
        r2 = *(u32 *)(r1 + 76)
        r0 = 0
        exit
