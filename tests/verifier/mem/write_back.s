; A mem program writes its result into the buffer and returns the old value.
; mem_len: 8
; expect: accept
.prog mem
        r0 = *(u64 *)(r1 + 0)
        r3 = r0
        r3 += 1
        *(u64 *)(r1 + 0) = r3
        exit
