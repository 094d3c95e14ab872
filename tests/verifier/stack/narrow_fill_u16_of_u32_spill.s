; A 4-byte spill at fp-8, read back as 2 bytes from its start: the kernel keeps the value
; (truncated to 16 bits), so the jump is decided and the read of an unwritten r3 is dead.
; expect: accept
.prog xdp
        r2 = 0x10005
        *(u32 *)(r10 - 8) = r2
        r4 = *(u16 *)(r10 - 8)
        r0 = 2
        if r4 == 5 goto out
        r0 = *(u32 *)(r3 + 0)
out:
        exit
