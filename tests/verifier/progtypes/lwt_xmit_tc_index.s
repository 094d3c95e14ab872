; tc_index is tc's to write; lwt programs may not.
; expect: reject insn=1 "invalid bpf_context access off=44 size=4"
.prog lwt_xmit
        r2 = 1
        *(u32 *)(r1 + 44) = r2
        r0 = 0
        exit
