; Returning an unknown scalar from XDP: accepted, there is no range to check.
; expect: accept
.prog xdp
        r0 = *(u32 *)(r1 + 12)
        exit
