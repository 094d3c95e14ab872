; As root, a socket filter may return the frame pointer (no pointer-leak check for root).
; expect: accept
.prog socket
        r0 = r10
        exit
