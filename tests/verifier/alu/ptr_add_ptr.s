; Adding two pointers is prohibited.
; expect: reject insn=1 "R0 pointer += pointer prohibited"
.prog xdp
        r0 = r10
        r0 += r1
        exit
