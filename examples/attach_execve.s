# Count execve calls system-wide (the chapter's first traced program).
# Attach it:  sudo ebpf-lab attach examples/attach_execve.s --tracepoint syscalls/sys_enter_execve --for 5s
.prog tracepoint
.map execs array key=4 value=8 max=1

        r6 = 0
        *(u32 *)(r10 - 4) = r6
        r1 = map(execs) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
out:
        r0 = 0
        exit
