; Each frame may use 512 bytes, but all frames together may not exceed 512.
; expect: reject "combined stack size of 2 calls is 1024. Too large"
.prog syscall
        r1 = 0
        *(u64 *)(r10 - 512) = r1
        call f
        r0 = 0
        exit
f:
        r1 = 0
        *(u64 *)(r10 - 512) = r1
        r0 = 0
        exit
