; Submitting a stack pointer instead of reserved memory.
; expect: reject insn=3 "R1 type=fp expected=ringbuf_mem"
.prog syscall
.map rb ringbuf key=0 value=0 max=4096
        r1 = r10
        r1 += -8
        r2 = 0
        call bpf_ringbuf_submit
        r0 = 0
        exit
