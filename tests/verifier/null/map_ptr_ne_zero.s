; A map reference from `lddw` against 0: a map reference is never NULL, and the kernel knows it
; (`CONST_PTR_TO_MAP` is in `reg_not_null`), so the edge that reads an unwritten r2 is dead.
; expect: accept
.prog xdp
.map m array key=4 value=8 max=1
        r1 = map(m) ll
        r0 = 2
        if r1 != 0 goto out
        r0 = *(u32 *)(r2 + 0)
out:
        exit
