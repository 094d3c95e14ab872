; A call target past the end of the program.
; expect: reject "call to invalid destination"
.prog syscall
        call pc+100
        r0 = 0
        exit
