; A socket filter may return any scalar (the bytes to keep).
; expect: accept
.prog socket
        r0 = -1
        exit
