; The counter never changes, so the state at the loop head repeats: an infinite loop.
; expect: reject insn=3 "infinite loop detected at insn 3"
.prog syscall
        r0 = 0
        r1 = 0
loop:
        r0 = 1
        if r1 < 10 goto loop
        exit
