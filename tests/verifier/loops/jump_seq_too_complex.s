; Every iteration of a 9000-step loop branches on a fresh unknown (the clock): the verifier keeps a
; pending state per branch, and more than 8192 of them is too complex.
; expect: reject insn=3 "The sequence of 8193 jumps is too complex."
.prog syscall
        r7 = 0
        r6 = 0
loop:
        call bpf_ktime_get_ns
        if r0 > 5 goto skip
        r7 += 1
skip:
        r6 += 1
        if r6 < 9000 goto loop
        r0 = r7
        exit
