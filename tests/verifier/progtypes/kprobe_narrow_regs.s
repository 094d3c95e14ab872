; Any aligned narrower load within a register of pt_regs is allowed (the high half of ax here).
; expect: accept
.prog kprobe
        r0 = *(u32 *)(r1 + 84)
        exit
