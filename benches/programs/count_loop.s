# Sum of 0..100000 in a counting loop.
mov %r0, 0
mov %r1, 0
loop:
add %r0, %r1
add %r1, 1
jlt %r1, 100000, loop
exit
