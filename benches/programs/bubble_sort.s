# Bubble sort of 64 descending u64 on the stack; returns the smallest.
# The frame pointer is moved with `add -512`: the kernel verifier refuses `sub` on a stack pointer.
mov %r1, %r10
add %r1, -512
mov %r2, 64
fill:
stxdw [%r1+0], %r2
add %r1, 8
sub %r2, 1
jne %r2, 0, fill
mov %r6, 63
outer:
mov %r1, %r10
add %r1, -512
mov %r7, 0
inner:
ldxdw %r3, [%r1+0]
ldxdw %r4, [%r1+8]
jle %r3, %r4, noswap
stxdw [%r1+0], %r4
stxdw [%r1+8], %r3
noswap:
add %r1, 8
add %r7, 1
jlt %r7, %r6, inner
sub %r6, 1
jne %r6, 0, outer
mov %r1, %r10
add %r1, -512
ldxdw %r0, [%r1+0]
exit
