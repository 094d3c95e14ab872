# Add 3 to r0 n times, n being the buffer's first 32-bit word.
# The kernel verifier refuses this program: find out why, and fix it (at most 100 turns).
.prog mem
        r3 = *(u32 *)(r1 + 0)   # n
        r0 = 0
        r4 = 0                  # turns done
loop:
        if r4 == r3 goto done
        r0 += 3
        r4 += 1
        goto loop
done:
        exit
