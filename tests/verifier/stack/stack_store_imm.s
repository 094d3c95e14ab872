; BPF_ST: an immediate stored to the stack.
; expect: accept
.prog syscall
        *(u64 *)(r10 - 8) = 42
        r0 = *(u64 *)(r10 - 8)
        r0 = 0
        exit
