; r1-r5 are clobbered by a bpf-to-bpf call, like a helper call.
; expect: reject insn=2 "R1 !read_ok"
.prog syscall
        r1 = 3
        call f
        r0 = r1
        exit
f:
        r0 = 0
        exit
