; The buffer is a map value, so it can be a helper's memory argument (bpf_probe_read_kernel).
; mem_len: 16
; expect: accept
.prog mem
        r6 = r1
        r1 = r6
        r2 = 8
        r3 = 0
        call bpf_probe_read_kernel
        r0 = 0
        exit
