# Add 3 to r0 n times, n being the buffer's first 32-bit word, at most 100 times.
.prog mem
        r3 = *(u32 *)(r1 + 0)   # n
        if r3 <= 100 goto ok
        r3 = 100                # the cap the verifier needs
ok:
        r0 = 0
        r4 = 0                  # turns done
loop:
        if r4 >= r3 goto done
        r0 += 3
        r4 += 1
        goto loop
done:
        exit
