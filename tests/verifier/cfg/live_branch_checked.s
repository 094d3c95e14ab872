; The same shape with an unknown r1: both edges are explored and the bad access is found.
; expect: reject insn=4 "R1 invalid mem access 'scalar'"
.prog syscall
        r1 = *(u64 *)(r1 + 0)
        if r1 > 10 goto bad
        r0 = 0
        exit
bad:
        r0 = *(u64 *)(r1 + 0)
        exit
