# Internet-style 16-bit checksum over the input buffer (r1 = data; the length, 1500, is a constant since rbpf does not pass it in r2).
mov %r0, 0
mov %r3, 0
loop:
mov %r4, %r1
add %r4, %r3
ldxh %r5, [%r4+0]
add %r0, %r5
add %r3, 2
jlt %r3, 1500, loop
mov %r1, %r0
rsh %r1, 16
and %r0, 0xffff
add %r0, %r1
exit
