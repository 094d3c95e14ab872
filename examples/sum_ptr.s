# Sum the bytes of the input buffer by walking a pointer to an end pointer. The interpreter runs
# it; the kernel verifier refuses it: it does not learn bounds from comparing two pointers, so
# it follows the loop past the end of the buffer. Compare with examples/sum.s:
#   ebpf-lab check examples/sum_ptr.s --mem "01 02 03 04"
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
