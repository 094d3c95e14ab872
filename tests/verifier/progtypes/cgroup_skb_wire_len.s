; wire_len is tc's: a cgroup skb program may not read it.
; expect: reject insn=0 "invalid bpf_context access off=160 size=4"
.prog cgroup_skb
        r0 = *(u32 *)(r1 + 160)
        r0 = 1
        exit
