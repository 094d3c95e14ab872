//! Tristate numbers (the kernel's `struct tnum`, kernel/bpf/tnum.c): a 64-bit value of which some
//! bits are known and the rest unknown. `value` holds the known bits, `mask` marks the unknown ones;
//! a bit is never set in both. The tnum `t` stands for every `x` with `x & !t.mask == t.value`.
//!
//! Every operation is sound (the result contains every concrete result of every member) and, where
//! the kernel's is, optimal at 8 bits (checked exhaustively in the tests).

use std::fmt;

/// A tristate number: known bits in `value`, unknown bits in `mask` (`value & mask == 0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tnum {
    /// The known bits' values (0 where unknown).
    pub value: u64,
    /// The unknown bits.
    pub mask: u64,
}

impl Tnum {
    /// Nothing known: every 64-bit value.
    pub const UNKNOWN: Tnum = Tnum { value: 0, mask: u64::MAX };

    /// Exactly `value`.
    pub const fn constant(value: u64) -> Tnum {
        Tnum { value, mask: 0 }
    }

    /// The smallest tnum containing every value in `[min, max]` (`tnum_range`).
    pub fn range(min: u64, max: u64) -> Tnum {
        todo!("tnum_range {min} {max}")
    }

    /// True when every bit is known.
    pub const fn is_const(self) -> bool {
        self.mask == 0
    }

    /// True when no bit is known.
    pub const fn is_unknown(self) -> bool {
        self.mask == u64::MAX
    }

    /// True when the concrete `x` is a member.
    pub const fn contains_value(self, x: u64) -> bool {
        x & !self.mask == self.value
    }

    /// True when every member of `other` is a member of `self` (`tnum_in(self, other)`).
    pub fn contains(self, other: Tnum) -> bool {
        todo!("tnum_in {other:?}")
    }

    /// Shift left by a constant (`tnum_lshift`).
    pub fn lshift(self, shift: u8) -> Tnum {
        todo!("{shift}")
    }

    /// Logical shift right by a constant (`tnum_rshift`).
    pub fn rshift(self, shift: u8) -> Tnum {
        todo!("{shift}")
    }

    /// Arithmetic shift right by a constant at `bits` (32 or 64) width (`tnum_arshift`).
    pub fn arshift(self, shift: u8, bits: u8) -> Tnum {
        todo!("{shift} {bits}")
    }

    /// Sum (`tnum_add`).
    pub fn add(self, other: Tnum) -> Tnum {
        todo!("{other:?}")
    }

    /// Difference (`tnum_sub`).
    pub fn sub(self, other: Tnum) -> Tnum {
        todo!("{other:?}")
    }

    /// Two's-complement negation (`tnum_neg`).
    pub fn neg(self) -> Tnum {
        todo!()
    }

    /// Bitwise and (`tnum_and`).
    pub fn and(self, other: Tnum) -> Tnum {
        todo!("{other:?}")
    }

    /// Bitwise or (`tnum_or`).
    pub fn or(self, other: Tnum) -> Tnum {
        todo!("{other:?}")
    }

    /// Bitwise xor (`tnum_xor`).
    pub fn xor(self, other: Tnum) -> Tnum {
        todo!("{other:?}")
    }

    /// Product, modulo 2^64 (`tnum_mul`).
    pub fn mul(self, other: Tnum) -> Tnum {
        todo!("{other:?}")
    }

    /// Members of both (`tnum_intersect`); meaningful only when they share a member.
    pub fn intersect(self, other: Tnum) -> Tnum {
        todo!("{other:?}")
    }

    /// The smallest tnum containing the members of either (`tnum_union`).
    pub fn union(self, other: Tnum) -> Tnum {
        todo!("{other:?}")
    }

    /// Truncated to the low `size` bytes (1, 2, 4 or 8), zero-extended (`tnum_cast`).
    pub fn cast(self, size: u8) -> Tnum {
        todo!("{size}")
    }

    /// True when every member is a multiple of `size` (`tnum_is_aligned`).
    pub fn is_aligned(self, size: u64) -> bool {
        todo!("{size}")
    }

    /// The low 32 bits, zero-extended (`tnum_subreg`).
    pub fn subreg(self) -> Tnum {
        self.cast(4)
    }

    /// The high 32 bits kept, low 32 bits cleared (`tnum_clear_subreg`).
    pub fn clear_subreg(self) -> Tnum {
        todo!()
    }

    /// The high 32 bits of `self` with the low 32 bits of `sub` (`tnum_with_subreg`).
    pub fn with_subreg(self, sub: Tnum) -> Tnum {
        todo!("{sub:?}")
    }

    /// The high 32 bits of `self` with the low 32 bits set to `value` (`tnum_const_subreg`).
    pub fn const_subreg(self, value: u32) -> Tnum {
        todo!("{value}")
    }
}

/// The kernel's `tnum_strn`: `(0x0; 0xff)`.
impl fmt::Display for Tnum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:#x}; {:#x})", self.value, self.mask)
    }
}
