; The source address is known only at bind time (post_bind4), not at socket creation.
; expect: reject insn=0 "invalid bpf_context access off=24 size=4"
.prog cgroup_sock
        r0 = *(u32 *)(r1 + 24)
        r0 = 1
        exit
