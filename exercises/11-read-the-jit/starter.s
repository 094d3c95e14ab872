# Return 100 * (the programmer's bounds check) + (the instruction the kernel guarded).
.prog mem
        r0 = 0                  # your answer
        exit
