; 64-bit movsx from 32 bits.
; expect: accept
.prog syscall
        r1 = 0xffffffff ll
        r0 = (s32)r1
        exit
