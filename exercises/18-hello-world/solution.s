# Print "Hello, eBPF! syscall N" on each system call (raw_syscalls/sys_enter).
.prog tracepoint
        r6 = *(u32 *)(r1 + 8)   # __syscall_nr, kept across the call
        r1 = 0x65202c6f6c6c6548 ll
        *(u64 *)(r10 - 32) = r1
        r1 = 0x7379732021465042 ll
        *(u64 *)(r10 - 24) = r1
        r1 = 0xa6425206c6c6163 ll
        *(u64 *)(r10 - 16) = r1
        r1 = 0x0 ll
        *(u64 *)(r10 - 8) = r1
        r1 = r10
        r1 += -32
        r2 = 25                  # size, with the NUL
        r3 = r6
        call bpf_trace_printk
        r0 = 0
        exit
