; __sk_buff.len is a u32: an 8-byte read of it is refused.
; expect: reject insn=0 "invalid bpf_context access off=0 size=8"
.prog socket
        r0 = *(u64 *)(r1 + 0)
        r0 = 0
        exit
