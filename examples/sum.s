# Sum the bytes of the input buffer (program type `mem`: r1 = buffer, r2 = its length).
# Run it:  ebpf-lab run examples/sum.s --mem "01 02 03 04"
#
# The loop compares an index with the length rather than a pointer with an end pointer: the
# kernel verifier learns bounds from comparing numbers, not from comparing two pointers, so
# only this form passes `ebpf-lab check` (see examples/sum_ptr.s for the other one).
.prog mem
        r0 = 0
        r5 = 0                  # index
loop:
        if r5 >= r2 goto done
        r4 = r1
        r4 += r5
        r4 = *(u8 *)(r4 + 0)
        r0 += r4
        r5 += 1
        goto loop
done:
        exit
