; Exit with r0 never written: the kernel refuses to return an uninitialised value.
; expect: reject insn=0 "R0 !read_ok"
.prog xdp
        exit
