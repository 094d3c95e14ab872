; The key must cover key_size bytes: 8 are read from fp-4, running past the top of the stack.
; expect: reject insn=5 "invalid read from stack R2 off=-4 size=8"
.prog xdp
.map m hash key=8 value=8 max=4
        *(u32 *)(r10 - 4) = 0
        r2 = r10
        r2 += -4
        r1 = map(m) ll
        call bpf_map_lookup_elem
        r0 = 2
        exit
