; Masking the return value to one bit proves it is 0 or 1.
; expect: accept
.prog cgroup_sock
        r0 = *(u32 *)(r1 + 4)
        r0 &= 1
        exit
