; Shifting the frame pointer is prohibited.
; expect: reject insn=1 "R0 pointer arithmetic with <<= operator prohibited"
.prog xdp
        r0 = r10
        r0 <<= 1
        exit
