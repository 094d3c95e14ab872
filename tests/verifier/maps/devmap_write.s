; A devmap's value is the device's ifindex, and the kernel makes it read-only to programs
; (it sets BPF_F_RDONLY_PROG itself).
; expect: reject insn=9 "write into map forbidden, value_size=4 off=0 size=4"
.prog xdp
.map ports devmap key=4 value=4 max=4
        r1 = 0
        *(u32 *)(r10 - 4) = r1
        r1 = map(ports) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = 2
        *(u32 *)(r0 + 0) = r1
out:
        r0 = 2
        exit
