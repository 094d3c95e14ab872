; f calls g calls f: recursion through two functions.
; expect: reject insn=2 "the call stack of 9 frames is too deep"
.prog syscall
        call f
        exit
f:
        call g
        exit
g:
        call f
        exit
