; The loop runs while r5 <= len: the last iteration reads one byte past the buffer.
; mem_len: 16
; expect: reject insn=5 "invalid access to map value, value_size=16 off=16 size=1"
.prog mem
        r0 = 0
        r5 = 0
loop:
        if r5 > r2 goto done
        r4 = r1
        r4 += r5
        r4 = *(u8 *)(r4 + 0)
        r0 += r4
        r5 += 1
        goto loop
done:
        exit
