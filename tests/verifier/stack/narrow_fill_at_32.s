; A 4-byte read of an 8-byte spilled constant at fp-32. The kernel keeps the value only when
; the read starts at the slot's lowest address (fp-32 here: the low half, on little-endian x86);
; elsewhere the bytes are just "written", an unknown number. The jump after it is decided only
; when r4 is known, so the read of an unwritten r3 is reached or not.
; expect: accept
.prog xdp
        r2 = 27
        *(u64 *)(r10 - 32) = r2
        r4 = *(u32 *)(r10 - 32)
        r0 = 2
        if w4 s>= -3 goto out
        r0 = *(u32 *)(r3 + 0)
out:
        exit
