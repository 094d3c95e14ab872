; Returning the context pointer is not returning a number.
; expect: reject insn=1 "At program exit the register R0 is not a known value (ctx)"
.prog cgroup_sock
        r0 = r1
        exit
