# The same language in the uBPF / bpf_conformance syntax: the assembler detects it per file.
# Computes 10! with a loop.
        mov %r0, 1
        mov %r1, 10
loop:
        mul %r0, %r1
        sub %r1, 1
        jne %r1, 0, loop
        exit
