//! ALU and ALU32 edge cases with the kernel's semantics.

mod interp_common;
use interp_common::r0;

fn ret(body: &str) -> u64 {
    r0(&format!("{body}\nexit\n"))
}

#[test]
fn alu32_results_zero_extend() {
    assert_eq!(ret("lddw %r0, 0xffffffffffffffff\nadd32 %r0, 1"), 0);
    assert_eq!(ret("lddw %r0, 0xffffffff00000005\nmov32 %r0, %r0"), 5);
    assert_eq!(ret("mov32 %r0, -1"), 0xffff_ffff, "mov32 imm zero-extends");
    assert_eq!(ret("mov %r0, -1"), u64::MAX, "64-bit immediates sign-extend");
    assert_eq!(ret("mov %r0, 0\nsub32 %r0, 1"), 0xffff_ffff);
    assert_eq!(ret("mov32 %r0, 0x80000000\nneg32 %r0"), 0x8000_0000);
    assert_eq!(ret("lddw %r0, 0x8000000000000000\nneg %r0"), 0x8000_0000_0000_0000);
}

#[test]
fn division_and_modulo_by_zero() {
    assert_eq!(ret("mov %r0, 7\nmov %r1, 0\ndiv %r0, %r1"), 0);
    assert_eq!(ret("mov %r0, 7\nmov %r1, 0\nmod %r0, %r1"), 7, "64-bit mod by zero leaves dst");
    assert_eq!(ret("lddw %r0, 0xffffffff00000007\nmov %r1, 0\nmod32 %r0, %r1"), 7, "32-bit: low half, zero-extended");
    assert_eq!(ret("lddw %r0, 0xffffffff00000007\nmov %r1, 0\ndiv32 %r0, %r1"), 0);
    assert_eq!(ret("mov %r0, -7\nmov %r1, 0\nsdiv %r0, %r1"), 0);
    assert_eq!(ret("mov %r0, -7\nmov %r1, 0\nsmod %r0, %r1"), (-7i64) as u64);
}

#[test]
fn signed_overflow_cases() {
    assert_eq!(ret("lddw %r0, 0x8000000000000000\nsdiv %r0, -1"), 0x8000_0000_0000_0000);
    assert_eq!(ret("lddw %r0, 0x8000000000000000\nsmod %r0, -1"), 0);
    assert_eq!(ret("mov32 %r0, 0x80000000\nsdiv32 %r0, -1"), 0x8000_0000);
    assert_eq!(ret("mov32 %r0, 0x80000000\nsmod32 %r0, -1"), 0);
    assert_eq!(ret("mov %r0, -7\nsmod %r0, 2"), (-1i64) as u64, "sign follows the dividend");
}

#[test]
fn shift_counts_are_masked() {
    assert_eq!(ret("mov %r0, 1\nmov %r1, 65\nlsh %r0, %r1"), 2);
    assert_eq!(ret("mov %r0, 1\nmov %r1, 33\nlsh32 %r0, %r1"), 2);
    assert_eq!(ret("mov %r0, -16\nmov %r1, 66\narsh %r0, %r1"), (-4i64) as u64);
    assert_eq!(ret("mov32 %r0, 0x80000000\narsh32 %r0, 31"), 0xffff_ffff);
    assert_eq!(ret("mov %r0, -1\nrsh32 %r0, 28"), 0xf);
}

#[test]
fn byte_order() {
    let v = "lddw %r0, 0x1122334455667788\n";
    assert_eq!(ret(&format!("{v}le16 %r0")), 0x7788);
    assert_eq!(ret(&format!("{v}le32 %r0")), 0x5566_7788);
    assert_eq!(ret(&format!("{v}le64 %r0")), 0x1122_3344_5566_7788);
    assert_eq!(ret(&format!("{v}be16 %r0")), 0x8877);
    assert_eq!(ret(&format!("{v}be32 %r0")), 0x8877_6655);
    assert_eq!(ret(&format!("{v}be64 %r0")), 0x8877_6655_4433_2211);
    assert_eq!(ret(&format!("{v}bswap16 %r0")), 0x8877);
    assert_eq!(ret(&format!("{v}bswap64 %r0")), 0x8877_6655_4433_2211);
}

#[test]
fn sign_extending_moves_and_loads() {
    assert_eq!(ret("mov %r1, 0x80\nmovsx864 %r0, %r1"), 0xffff_ffff_ffff_ff80);
    assert_eq!(ret("mov %r1, 0x80\nmovsx832 %r0, %r1"), 0xffff_ff80, "ALU32 movsx zero-extends");
    assert_eq!(ret("mov32 %r1, 0x8000\nmovsx1664 %r0, %r1"), 0xffff_ffff_ffff_8000);
    assert_eq!(ret("mov32 %r1, 0x80000000\nmovsx3264 %r0, %r1"), 0xffff_ffff_8000_0000);
    assert_eq!(ret("stb [%r10-1], 0xfe\nldxsb %r0, [%r10-1]"), (-2i64) as u64);
    assert_eq!(ret("sth [%r10-2], -3\nldxsh %r0, [%r10-2]"), (-3i64) as u64);
}

#[test]
fn atomics() {
    assert_eq!(
        ret("stdw [%r10-8], 5\nmov %r1, 3\nlock fetch add [%r10-8], %r1\nldxdw %r0, [%r10-8]\nadd %r0, %r1"),
        13
    );
    // cmpxchg: equal -> store, r0 gets the old value.
    assert_eq!(ret("stdw [%r10-8], 5\nmov %r0, 5\nmov %r1, 9\nlock cmpxchg [%r10-8], %r1\nldxdw %r2, [%r10-8]\nlsh %r2, 8\nor %r0, %r2"), 0x905);
    // 32-bit cmpxchg compares the low halves and zero-extends r0.
    assert_eq!(
        ret("stw [%r10-8], -1\nlddw %r0, 0x12345678ffffffff\nmov %r1, 1\nlock cmpxchg32 [%r10-8], %r1"),
        0xffff_ffff
    );
    assert_eq!(ret("stdw [%r10-8], 6\nmov %r1, 2\nlock xchg [%r10-8], %r1\nmov %r0, %r1"), 6);
}

#[test]
fn jmp32_compares_low_halves() {
    assert_eq!(ret("lddw %r1, 0x100000001\nmov %r0, 0\njeq32 %r1, 1, +1\nexit\nmov %r0, 1"), 1);
    assert_eq!(ret("mov32 %r1, -1\nmov %r0, 0\njslt32 %r1, 0, +1\nexit\nmov %r0, 1"), 1);
    assert_eq!(
        ret("mov32 %r1, -1\nmov %r0, 0\njslt %r1, 0, +1\nexit\nmov %r0, 1"),
        0,
        "64-bit: 0xffffffff is positive"
    );
}
