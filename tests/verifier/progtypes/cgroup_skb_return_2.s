; A cgroup ingress program answers 1 (let through) or 0 (drop): returning 2 is refused at exit.
; expect: reject insn=1 "At program exit the register R0 has smin=2 smax=2 should have been in [0, 1]"
.prog cgroup_skb
        r0 = 2
        exit
