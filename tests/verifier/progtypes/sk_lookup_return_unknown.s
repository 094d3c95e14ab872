; An sk_lookup program must return SK_PASS (1) or SK_DROP (0): a value read from the context could be anything.
; expect: reject insn=1 "At program exit the register R0 has smin=0 smax=4294967295 should have been in [0, 1]"
.prog sk_lookup
        r0 = *(u32 *)(r1 + 60)
        exit
