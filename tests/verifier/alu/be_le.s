; be16 and le32 byte-order conversions.
; expect: accept
.prog syscall
        r0 = 0x1234
        r0 = be16 r0
        r0 = le32 r0
        exit
