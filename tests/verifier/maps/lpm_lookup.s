; An LPM trie's key is a u32 prefix length then the address; the value may be NULL.
; expect: accept
.prog xdp
.map routes lpm_trie key=8 value=8 max=16 flags=1
        r1 = 32
        *(u32 *)(r10 - 8) = r1
        r1 = 0x0100000a
        *(u32 *)(r10 - 4) = r1
        r1 = map(routes) ll
        r2 = r10
        r2 += -8
        call bpf_map_lookup_elem
        if r0 == 0 goto out
        r1 = *(u64 *)(r0 + 0)
out:
        r0 = 2
        exit
