; A key pointer into the context is not a valid key argument.
; expect: reject insn=3 "R2 type=ctx expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_"
.prog tc
.map m hash key=4 value=8 max=4
        r2 = r1
        r1 = map(m) ll
        call bpf_map_lookup_elem
        r0 = 0
        exit
