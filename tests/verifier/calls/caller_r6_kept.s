; r6-r9 of the caller survive a bpf-to-bpf call.
; expect: accept
.prog syscall
        r6 = 3
        call f
        r0 = r6
        exit
f:
        r6 = 9
        r0 = 0
        exit
