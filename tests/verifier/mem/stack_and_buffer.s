; Copy 8 bytes of the buffer to the stack and back.
; mem_len: 8
; expect: accept
.prog mem
        r3 = *(u64 *)(r1 + 0)
        *(u64 *)(r10 - 8) = r3
        r0 = *(u64 *)(r10 - 8)
        *(u64 *)(r1 + 0) = r0
        exit
