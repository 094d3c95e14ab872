; As root, a map pointer (r1 = map(m) ll) may be read: the kernel exposes struct bpf_map through BTF.
; expect: accept
.prog tc
.map m array key=4 value=16 max=1
        r1 = map(m) ll
        r0 = *(u64 *)(r1 + 0)
        r0 = 0
        exit
