# Increment counter number i (a signed 32-bit index in the buffer) of the 16 in `slots`,
# return its new value, or 0 when i is out of range.
# The kernel verifier refuses this program: find out why, and fix it.
.prog mem
.map slots array key=4 value=128 max=1

        r6 = *(u32 *)(r1 + 0)
        r6 <<= 32
        r6 s>>= 32              # i, sign-extended to 64 bits
        *(u32 *)(r10 - 4) = 0
        r1 = map(slots) ll
        r2 = r10
        r2 += -4
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        if r6 s> 15 goto out
        r6 <<= 3                # 8 bytes per counter
        r0 += r6
        r1 = 1
        lock *(u64 *)(r0 + 0) += r1
        r0 = *(u64 *)(r0 + 0)
        exit
out:
        r0 = 0
        exit
