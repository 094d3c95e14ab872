; bpf_get_smp_processor_id from a syscall program.
; expect: accept
.prog syscall
        call bpf_get_smp_processor_id
        exit
