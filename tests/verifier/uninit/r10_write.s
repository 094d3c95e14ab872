; r10, the frame pointer, is read-only.
; expect: reject insn=0 "frame pointer is read only"
.prog syscall
        r10 = 0
        r0 = 0
        exit
