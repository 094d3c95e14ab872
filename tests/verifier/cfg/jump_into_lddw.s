; A jump into the second half of a 64-bit immediate load.
; expect: reject "jump into the middle of ldimm64 insn 2"
.prog syscall
        r0 = 0
        if r0 == 0 goto +1
        r1 = 0x100000000 ll
        exit
