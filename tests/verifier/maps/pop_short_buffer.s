; bpf_map_pop_elem writes value_size bytes: a 4-byte slot at the top of the stack is too small
; for an 8-byte value.
; expect: reject insn=4 "invalid write to stack R2 off=-4 size=8"
.prog xdp
.map s stack key=0 value=8 max=4
        r1 = map(s) ll
        r2 = r10
        r2 += -4
        call bpf_map_pop_elem
        r0 = 2
        exit
