; The format of bpf_trace_printk must be memory the program owns, not the context.
; expect: reject insn=1 "R1 type=ctx expected=fp, pkt, pkt_meta, map_key, map_value, mem, ringbuf_mem, buf, trusted_ptr_"
.prog tracepoint
        r2 = 8
        call bpf_trace_printk
        r0 = 0
        exit
