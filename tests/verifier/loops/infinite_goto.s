; `goto` to itself with nothing changing: the verifier sees the same state again.
; expect: reject insn=1 "infinite loop detected at insn 1"
.prog syscall
        r0 = 0
loop:
        goto loop
