# Count system calls by number (attach point: tracepoint raw_syscalls/sys_enter).
# The context is the tracepoint record: the syscall number is at offset 8.
# Run it:  ebpf-lab run examples/syscount.s --ctx id=1
.prog tracepoint
.map syscalls hash key=4 value=8 max=512

        r6 = *(u32 *)(r1 + 8)           # the syscall number
        *(u32 *)(r10 - 4) = r6
        r1 = map(syscalls) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 != 0 goto bump
        r1 = 1                          # first time: insert 1
        *(u64 *)(r10 - 16) = r1
        r1 = map(syscalls) ll
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -16
        r4 = 0                          # BPF_ANY
        call bpf_map_update_elem
        goto out
bump:
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
out:
        r0 = 0
        exit
