; A helper that does not exist.
; expect: reject insn=0 "invalid func unknown#999"
.prog socket
        call 999
        r0 = 0
        exit
