; A number is not a pointer: dereferencing a scalar is refused.
; expect: reject insn=1 "R2 invalid mem access 'scalar'"
.prog xdp
        r2 = 1000
        r0 = *(u64 *)(r2 + 0)
        exit
