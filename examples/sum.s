# Sum the bytes of the input buffer (program type `mem`: r1 = buffer, r2 = its length).
# Run it:  ebpf-lab run examples/sum.s --mem "01 02 03 04"
.prog mem
        r0 = 0
        r3 = r1
        r3 += r2                # r3 = one past the end
loop:
        if r1 >= r3 goto done
        r4 = *(u8 *)(r1 + 0)
        r0 += r4
        r1 += 1
        goto loop
done:
        exit
