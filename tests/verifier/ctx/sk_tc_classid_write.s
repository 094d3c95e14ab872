; tc_classid is writable from tc.
; expect: accept
.prog tc
        r2 = 1
        *(u32 *)(r1 + 32) = r2
        r0 = 0
        exit
