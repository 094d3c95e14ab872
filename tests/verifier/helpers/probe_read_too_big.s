; A mem+size pair: size 32 into a buffer of 16 bytes at fp-16 runs past the stack.
; expect: reject insn=4 "invalid write to stack R1 off=-16 size=32"
.prog tracepoint
        r3 = *(u64 *)(r1 + 16)
        r1 = r10
        r1 += -16
        r2 = 32
        call bpf_probe_read_kernel
        r0 = 0
        exit
