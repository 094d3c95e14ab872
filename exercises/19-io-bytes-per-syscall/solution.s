# Per syscall number, for read (0) and write (1): { u64 calls; u64 bytes requested (args[2]) }.
.prog tracepoint
.map io hash key=4 value=16 max=16

        r6 = *(u32 *)(r1 + 8)   # __syscall_nr
        r7 = *(u64 *)(r1 + 32)  # args[2]: the byte count
        if r6 > 1 goto out      # only read and write
        *(u32 *)(r10 - 4) = r6
        r1 = map(io) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto insert
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
        lock *(u64 *)(r0 + 8) += r7
        goto out
insert:
        r1 = 1
        *(u64 *)(r10 - 24) = r1 # calls
        *(u64 *)(r10 - 16) = r7 # bytes
        r1 = map(io) ll
        r2 = r10
        r2 += -4
        r3 = r10
        r3 += -24
        r4 = 0                  # BPF_ANY
        call bpf_map_update_elem
out:
        r0 = 0
        exit
