; With an empty input, r1 is 0 (a number, not a pointer): reading through it is refused.
; mem_len: 0
; expect: reject insn=0 "R1 invalid mem access 'scalar'"
.prog mem
        r0 = *(u8 *)(r1 + 0)
        exit
