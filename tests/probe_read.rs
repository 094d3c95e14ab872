//! `bpf_probe_read_kernel` and `_str` in a kprobe, against the kernel (which runs the kprobe's
//! bytecode as a SYSCALL program): the program's own memory reads as kernel memory, a user-half
//! or non-canonical address is refused with -ERANGE and the destination zeroed.

mod check_common;

#[test]
fn probe_read_kernel_reads_own_memory_and_refuses_user_addresses() {
    if !ebpf_lab::kernel::require_or_skip("probe_read_kernel_reads_own_memory_and_refuses_user_addresses") {
        return;
    }
    // fp-8 holds "abc\0ef"; copy it to fp-16 (0), copy 8 bytes from address di (-ERANGE,
    // zeroed), then the string at fp-8 into fp-24 with room for 3 bytes (3: "ab\0"), and
    // from a non-canonical address (-ERANGE).
    let src = "\
.prog kprobe
        r6 = r1
        r1 = 0x666500636261 ll
        *(u64 *)(r10 - 8) = r1
        r1 = -1
        *(u64 *)(r10 - 16) = r1
        *(u64 *)(r10 - 24) = r1
        r1 = r10
        r1 += -16
        r2 = 8
        r3 = r10
        r3 += -8
        call bpf_probe_read_kernel
        r7 = r0
        r1 = r10
        r1 += -24
        r2 = 8
        r3 = *(u64 *)(r6 + 112)
        call bpf_probe_read_kernel
        r0 = -r0
        r7 <<= 8
        r7 |= r0
        r8 = *(u64 *)(r10 - 24)
        r1 = r10
        r1 += -24
        r2 = 3
        r3 = r10
        r3 += -8
        call bpf_probe_read_kernel_str
        r7 <<= 8
        r7 |= r0
        r1 = r10
        r1 += -32
        r2 = 4
        r3 = 1
        r3 <<= 63
        call bpf_probe_read_kernel_str
        r0 = -r0
        r7 <<= 8
        r7 |= r0
        r0 = *(u64 *)(r10 - 16)
        r0 ^= r8
        r1 = *(u64 *)(r10 - 24)
        r0 += r1
        r0 <<= 32
        r0 += r7
        exit
";
    for di in ["0", "0x1000"] {
        let (code, out) = check_common::check("probe_read.s", src, &["--ctx", &format!("di={di}")]);
        assert_eq!(code, 0, "{out}");
        let row = out.lines().find(|l| l.trim_start().starts_with("r0")).unwrap_or_else(|| panic!("{out}"));
        // High half: the low 32 bits of "abc\0ef" (copied) + "ab\0" (over the zeros the failed
        // read left); low half: the four results.
        assert_eq!(row.matches("0x63c4c200220322").count(), 3, "{out}");
    }
}
