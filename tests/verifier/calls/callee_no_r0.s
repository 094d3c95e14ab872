; A callee that exits without setting r0 passes when the caller never reads r0 afterwards.
; expect: accept
.prog syscall
        call f
        r0 = 0
        exit
f:
        exit
