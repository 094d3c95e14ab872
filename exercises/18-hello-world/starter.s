# Print "Hello, eBPF! syscall N" on each system call (raw_syscalls/sys_enter).
.prog tracepoint
        r1 = 0x65202c6f6c6c6548 ll
        *(u64 *)(r10 - 16) = r1
        r1 = 0xa21465042 ll
        *(u64 *)(r10 - 8) = r1
        r1 = r10
        r1 += -16
        r2 = 14                  # size, with the NUL
        call bpf_trace_printk
        r0 = 0
        exit
