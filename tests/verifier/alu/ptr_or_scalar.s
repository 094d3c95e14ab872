; Bitwise or on a context pointer is prohibited.
; expect: reject insn=1 "R0 bitwise operator |= on pointer prohibited"
.prog xdp
        r0 = r1
        r0 |= 1
        exit
