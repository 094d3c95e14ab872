; bpf_loop's callback must be described by BTF func_info: without it the kernel refuses the program.
; expect: reject insn=1 "missing btf func_info"
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
