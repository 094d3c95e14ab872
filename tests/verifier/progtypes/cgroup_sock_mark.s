; At socket creation a cgroup/sock program may set the socket's mark (4-byte store).
; expect: accept
.prog cgroup_sock
        r2 = 7
        *(u32 *)(r1 + 16) = r2
        r0 = 1
        exit
