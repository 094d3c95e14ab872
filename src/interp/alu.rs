//! ALU semantics that are more than one Rust operator: division and modulo (with the kernel's
//! rules for zero and overflow), sign-extending moves and byte-order conversion.
//!
//! Everything else (add, shifts with masked counts, ...) is written inline in the run loop.

use crate::isa::EndianOp;

/// `dst / src` unsigned, 64-bit; division by zero gives 0.
#[inline(always)]
pub fn div64(a: u64, b: u64) -> u64 {
    a.checked_div(b).unwrap_or(0)
}

/// `dst % src` unsigned, 64-bit; modulo by zero leaves `dst` unchanged.
#[inline(always)]
pub fn mod64(a: u64, b: u64) -> u64 {
    a.checked_rem(b).unwrap_or(a)
}

/// Signed division, 64-bit: by zero gives 0; `INT_MIN / -1` wraps to `INT_MIN`.
#[inline(always)]
pub fn sdiv64(a: u64, b: u64) -> u64 {
    if b == 0 {
        0
    } else {
        (a as i64).wrapping_div(b as i64) as u64
    }
}

/// Signed modulo, 64-bit: by zero leaves `dst`; `INT_MIN % -1` is 0. The sign follows the
/// dividend (C semantics).
#[inline(always)]
pub fn smod64(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        (a as i64).wrapping_rem(b as i64) as u64
    }
}

/// Unsigned division of the low halves; zero-extended. By zero gives 0.
#[inline(always)]
pub fn div32(a: u64, b: u32) -> u64 {
    (a as u32).checked_div(b).unwrap_or(0) as u64
}

/// Unsigned modulo of the low halves; by zero leaves the low 32 bits of `dst`, zero-extended.
#[inline(always)]
pub fn mod32(a: u64, b: u32) -> u64 {
    (a as u32).checked_rem(b).unwrap_or(a as u32) as u64
}

/// Signed division of the low halves, zero-extended.
#[inline(always)]
pub fn sdiv32(a: u64, b: u32) -> u64 {
    if b == 0 {
        0
    } else {
        (a as u32 as i32).wrapping_div(b as i32) as u32 as u64
    }
}

/// Signed modulo of the low halves, zero-extended; by zero leaves the low half of `dst`.
#[inline(always)]
pub fn smod32(a: u64, b: u32) -> u64 {
    if b == 0 {
        a as u32 as u64
    } else {
        (a as u32 as i32).wrapping_rem(b as i32) as u32 as u64
    }
}

/// Sign-extends the low `bits` of `v` to 64 bits.
#[inline(always)]
pub fn sext(v: u64, bits: u8) -> u64 {
    match bits {
        8 => v as i8 as i64 as u64,
        16 => v as i16 as i64 as u64,
        32 => v as i32 as i64 as u64,
        _ => v,
    }
}

/// ALU32 `movsx`: sign-extends to 32 bits, then zero-extends into the register.
#[inline(always)]
pub fn sext32(v: u64, bits: u8) -> u64 {
    sext(v, bits) as u32 as u64
}

/// Byte-order conversion as the kernel does it on a little-endian host: `le` truncates to
/// `bits`, `be` and `bswap` swap the low `bits` bytes and zero the rest.
#[inline(always)]
pub fn endian(v: u64, op: EndianOp, bits: u8) -> u64 {
    match (op, bits) {
        (EndianOp::ToLe, 16) => v as u16 as u64,
        (EndianOp::ToLe, 32) => v as u32 as u64,
        (EndianOp::ToLe, _) => v,
        (_, 16) => (v as u16).swap_bytes() as u64,
        (_, 32) => (v as u32).swap_bytes() as u64,
        (_, _) => v.swap_bytes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_edge_cases() {
        assert_eq!(div64(7, 0), 0);
        assert_eq!(mod64(7, 0), 7);
        assert_eq!(sdiv64(i64::MIN as u64, u64::MAX), i64::MIN as u64);
        assert_eq!(smod64(i64::MIN as u64, u64::MAX), 0);
        assert_eq!(mod32(0xffff_ffff_0000_0007, 0), 7);
        assert_eq!(smod32(0xffff_ffff_8000_0000, u32::MAX), 0);
        assert_eq!(sdiv32(0x8000_0000, u32::MAX), 0x8000_0000);
        assert_eq!(endian(0x1122_3344_5566_7788, EndianOp::ToBe, 16), 0x8877);
        assert_eq!(endian(0x1122_3344_5566_7788, EndianOp::ToLe, 32), 0x5566_7788);
        assert_eq!(sext32(0x80, 8), 0xffff_ff80);
    }
}
