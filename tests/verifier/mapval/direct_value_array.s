; `r1 = map_value(m, 8) ll` points straight into element 0 of an array map: no lookup, no NULL check.
; expect: accept
.prog tc
.map m array key=4 value=16 max=1
        r1 = map_value(m, 8) ll
        r0 = *(u64 *)(r1 + 0)
        r0 = 0
        exit
