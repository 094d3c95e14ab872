; The smallest bpf_loop: the kernel wants BTF func_info for the callback, which ebpf-lab's loader writes for an assembled program (kernel::func_btf).
; expect: accept
.prog syscall
        r1 = 100
        r2 = func(cb) ll
        r3 = 0
        r4 = 0
        call bpf_loop
        r0 = 0
        exit
cb:
        r0 = 0
        exit
