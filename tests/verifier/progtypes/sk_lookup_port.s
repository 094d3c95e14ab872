; An sk_lookup program reads the lookup's local port (narrow loads allowed) and passes.
; expect: accept
.prog sk_lookup
        r0 = *(u16 *)(r1 + 60)
        r0 = 1
        exit
