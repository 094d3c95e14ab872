; A helper call clobbers r1-r5: reading r1 after the call is reading an uninitialised register.
; expect: reject insn=1 "R1 !read_ok"
.prog xdp
        call bpf_ktime_get_ns
        r0 = r1
        exit
