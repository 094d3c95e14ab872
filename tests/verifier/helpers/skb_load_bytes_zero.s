; bpf_skb_load_bytes's length 0 is refused (ARG_CONST_SIZE needs at least one byte).
; expect: reject insn=4 "R4 invalid zero-sized read: u64=[0,0]"
.prog tc
        r2 = 0
        r3 = r10
        r3 += -16
        r4 = 0
        call bpf_skb_load_bytes
        r0 = 0
        exit
