; Comparing a buffer pointer with an end pointer (r1 + len) teaches the verifier nothing: it
; walks both edges on past the end and finds the read at offset 16 (compare sum_index.s).
; mem_len: 16
; expect: reject insn=4 "invalid access to map value, value_size=16 off=16 size=1"
.prog mem
        r0 = 0
        r3 = r1
        r3 += r2
loop:
        if r1 >= r3 goto done
        r4 = *(u8 *)(r1 + 0)
        r0 += r4
        r1 += 1
        goto loop
done:
        exit
