; A function that calls itself: recursion is refused.
; expect: reject "the call stack of 8 frames is too deep !"
.prog syscall
        r1 = 3
        call f
        exit
f:
        r1 += -1
        if r1 == 0 goto done
        call f
done:
        r0 = 0
        exit
