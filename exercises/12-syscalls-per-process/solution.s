# Count the system calls of each process (tgid) in `per_process`.
.prog tracepoint
.map per_process hash key=4 value=8 max=1024

        call bpf_get_current_pid_tgid
        r0 >>= 32                       # tgid
        *(u32 *)(r10 - 4) = r0
        r1 = map(per_process) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 != 0 goto bump
        r1 = 1                          # first call of this process
        *(u64 *)(r10 - 16) = r1
        r1 = map(per_process) ll
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
