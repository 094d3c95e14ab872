; A mem program gets r1 and r2 only: r3 is not initialised.
; mem_len: 8
; expect: reject insn=0 "R3 !read_ok"
.prog mem
        r0 = r3
        exit
