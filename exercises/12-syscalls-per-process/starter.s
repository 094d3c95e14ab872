# Count the system calls of each process (tgid) in `per_process`.
.prog tracepoint
.map per_process hash key=4 value=8 max=1024

        call bpf_get_current_pid_tgid
        # TODO: the tgid as the key; look it up; add 1 or insert 1
        r0 = 0
        exit
