; struct bpf_sk_lookup is read-only.
; expect: reject insn=1 "invalid bpf_context access off=60 size=4"
.prog sk_lookup
        r2 = 80
        *(u32 *)(r1 + 60) = r2
        r0 = 1
        exit
