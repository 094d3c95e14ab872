; family may be loaded narrower, but only from its first byte: offset 5 is refused.
; expect: reject insn=0 "invalid bpf_context access off=5 size=1"
.prog cgroup_sock
        r0 = *(u8 *)(r1 + 5)
        r0 = 1
        exit
