; A bpf-to-bpf call: the callee gets r1-r5 and returns in r0.
; expect: accept
.prog syscall
        r1 = 3
        call add1
        exit
add1:
        r0 = r1
        r0 += 1
        exit
