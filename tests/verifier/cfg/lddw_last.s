; A program ending in a 64-bit load (no exit after it).
; expect: reject "last insn is not an exit or jmp"
.prog syscall
        r0 = 1 ll
