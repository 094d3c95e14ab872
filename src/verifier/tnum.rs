//! Tristate numbers (the kernel's `struct tnum`, kernel/bpf/tnum.c): a 64-bit value of which some
//! bits are known and the rest unknown. `value` holds the known bits, `mask` marks the unknown ones;
//! a bit is never set in both. The tnum `t` stands for every `x` with `x & !t.mask == t.value`.
//!
//! Every operation is sound (the result contains every concrete result of every member) and all
//! but `mul` are optimal (the smallest such tnum), as the kernel's are: checked exhaustively in
//! tests/verifier_tnum.rs, every 8-bit tnum for one operand, every pair of 5-bit ones for two.

use std::fmt;

/// A tristate number: known bits in `value`, unknown bits in `mask` (`value & mask == 0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tnum {
    /// The known bits' values (0 where unknown).
    pub value: u64,
    /// The unknown bits.
    pub mask: u64,
}

// The operations keep the kernel's names (`tnum_add`, ...); operator traits would hide which
// kernel function each one is.
#[allow(clippy::should_implement_trait)]
impl Tnum {
    /// Nothing known: every 64-bit value.
    pub const UNKNOWN: Tnum = Tnum { value: 0, mask: u64::MAX };

    /// Exactly `value`.
    pub const fn constant(value: u64) -> Tnum {
        Tnum { value, mask: 0 }
    }

    /// The smallest tnum containing every value in `[min, max]` (`tnum_range`).
    pub fn range(min: u64, max: u64) -> Tnum {
        // Every bit below the highest bit where min and max differ takes both values in the
        // range; the bits above it are shared by all.
        let chi = min ^ max;
        let bits = 64 - chi.leading_zeros();
        if bits > 63 {
            return Tnum::UNKNOWN;
        }
        let delta = (1u64 << bits) - 1;
        Tnum { value: min & !delta, mask: delta }
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
        if other.mask & !self.mask != 0 {
            return false;
        }
        other.value & !self.mask == self.value
    }

    /// True when some value is a member of both (`tnum_overlap`): the known bits they share
    /// agree.
    pub const fn overlaps(self, other: Tnum) -> bool {
        let known = !self.mask & !other.mask;
        self.value & known == other.value & known
    }

    /// Shift left by a constant (`tnum_lshift`).
    pub fn lshift(self, shift: u8) -> Tnum {
        Tnum { value: self.value << shift, mask: self.mask << shift }
    }

    /// Logical shift right by a constant (`tnum_rshift`).
    pub fn rshift(self, shift: u8) -> Tnum {
        Tnum { value: self.value >> shift, mask: self.mask >> shift }
    }

    /// Arithmetic shift right by a constant at `bits` (32 or 64) width (`tnum_arshift`).
    /// At 32 bits the result is zero-extended. An unknown sign bit spreads into every bit it
    /// shifts into, as it should: those bits are copies of it.
    pub fn arshift(self, shift: u8, bits: u8) -> Tnum {
        if bits == 32 {
            Tnum {
                value: ((self.value as i32) >> shift) as u32 as u64,
                mask: ((self.mask as i32) >> shift) as u32 as u64,
            }
        } else {
            Tnum { value: ((self.value as i64) >> shift) as u64, mask: ((self.mask as i64) >> shift) as u64 }
        }
    }

    /// Sum (`tnum_add`).
    pub fn add(self, other: Tnum) -> Tnum {
        // The lowest and highest sums differ exactly in the bits a carry may reach.
        let sm = self.mask.wrapping_add(other.mask);
        let sv = self.value.wrapping_add(other.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | other.mask;
        Tnum { value: sv & !mu, mask: mu }
    }

    /// Difference (`tnum_sub`).
    pub fn sub(self, other: Tnum) -> Tnum {
        // The highest and lowest differences differ exactly in the bits a borrow may reach.
        let dv = self.value.wrapping_sub(other.value);
        let alpha = dv.wrapping_add(self.mask);
        let beta = dv.wrapping_sub(other.mask);
        let chi = alpha ^ beta;
        let mu = chi | self.mask | other.mask;
        Tnum { value: dv & !mu, mask: mu }
    }

    /// Two's-complement negation (`tnum_neg`).
    pub fn neg(self) -> Tnum {
        Tnum::constant(0).sub(self)
    }

    /// Bitwise and (`tnum_and`).
    pub fn and(self, other: Tnum) -> Tnum {
        let alpha = self.value | self.mask;
        let beta = other.value | other.mask;
        let v = self.value & other.value;
        Tnum { value: v, mask: alpha & beta & !v }
    }

    /// Bitwise or (`tnum_or`).
    pub fn or(self, other: Tnum) -> Tnum {
        let v = self.value | other.value;
        let mu = self.mask | other.mask;
        Tnum { value: v, mask: mu & !v }
    }

    /// Bitwise xor (`tnum_xor`).
    pub fn xor(self, other: Tnum) -> Tnum {
        let v = self.value ^ other.value;
        let mu = self.mask | other.mask;
        Tnum { value: v & !mu, mask: mu }
    }

    /// Product, modulo 2^64 (`tnum_mul`, the long multiplication of Linux 6.17+). Sound but
    /// not optimal: the partial products' unknown bits are treated as independent.
    pub fn mul(self, other: Tnum) -> Tnum {
        let (mut a, mut b) = (self, other);
        let mut acc = Tnum::constant(0);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                // This bit of `a` is 1: add the shifted `b`.
                acc = acc.add(b);
            } else if a.mask & 1 != 0 {
                // Unknown bit: the partial sum is either `acc` or `acc + b`.
                acc = acc.union(acc.add(b));
            }
            a = a.rshift(1);
            b = b.lshift(1);
        }
        acc
    }

    /// Members of both (`tnum_intersect`); meaningful only when they share a member.
    /// Where they disagree on a known bit, the result says 1 (as the kernel's does).
    pub fn intersect(self, other: Tnum) -> Tnum {
        let v = self.value | other.value;
        let mu = self.mask & other.mask;
        Tnum { value: v & !mu, mask: mu }
    }

    /// The smallest tnum containing the members of either (`tnum_union`).
    pub fn union(self, other: Tnum) -> Tnum {
        let v = self.value & other.value;
        let mu = (self.value ^ other.value) | self.mask | other.mask;
        Tnum { value: v & !mu, mask: mu }
    }

    /// Truncated to the low `size` bytes (1, 2, 4 or 8), zero-extended (`tnum_cast`).
    pub fn cast(self, size: u8) -> Tnum {
        let keep = low_bytes_mask(size);
        Tnum { value: self.value & keep, mask: self.mask & keep }
    }

    /// True when every member is a multiple of `size` (`tnum_is_aligned`).
    pub fn is_aligned(self, size: u64) -> bool {
        size == 0 || (self.value | self.mask) & (size - 1) == 0
    }

    /// The low 32 bits, zero-extended (`tnum_subreg`).
    pub fn subreg(self) -> Tnum {
        self.cast(4)
    }

    /// The high 32 bits kept, low 32 bits cleared (`tnum_clear_subreg`).
    pub fn clear_subreg(self) -> Tnum {
        self.rshift(32).lshift(32)
    }

    /// The high 32 bits of `self` with the low 32 bits of `sub` (`tnum_with_subreg`).
    pub fn with_subreg(self, sub: Tnum) -> Tnum {
        self.clear_subreg().or(sub.subreg())
    }

    /// The high 32 bits of `self` with the low 32 bits set to `value` (`tnum_const_subreg`).
    pub fn const_subreg(self, value: u32) -> Tnum {
        self.with_subreg(Tnum::constant(value as u64))
    }

    /// The smallest member greater than `z` (`tnum_step`); the largest member when there is
    /// none, the smallest when `z` is below it.
    pub fn step(self, z: u64) -> u64 {
        let tmax = self.value | self.mask;
        if z >= tmax {
            return tmax;
        }
        if z < self.value {
            return self.value;
        }
        // The answer agrees with `z` above some bit `i`, has 1 at `i` where `z` has 0, and is
        // as small as possible below. The lowest such `i` gives the smallest answer.
        let clash = (z ^ self.value) & !self.mask;
        for i in 0..64 {
            let bit = 1u64 << i;
            let above_ok = i == 63 || clash >> (i + 1) == 0;
            if z & bit == 0 && (self.mask | self.value) & bit != 0 && above_ok {
                let high = if i == 63 { 0 } else { (z >> (i + 1)) << (i + 1) };
                return high | bit | (self.value & (bit - 1));
            }
        }
        tmax
    }

    /// The low `bits` (16, 32 or 64) with their bytes reversed, the rest cleared
    /// (`tnum_bswap16/32/64`).
    pub fn bswap(self, bits: u32) -> Tnum {
        match bits {
            16 => Tnum { value: (self.value as u16).swap_bytes() as u64, mask: (self.mask as u16).swap_bytes() as u64 },
            32 => Tnum { value: (self.value as u32).swap_bytes() as u64, mask: (self.mask as u32).swap_bytes() as u64 },
            _ => Tnum { value: self.value.swap_bytes(), mask: self.mask.swap_bytes() },
        }
    }

    /// True when the low 32 bits are all known (`tnum_subreg_is_const`).
    pub const fn subreg_is_const(self) -> bool {
        self.mask as u32 == 0
    }
}

/// The low `size` bytes set (`size` 8 or more: all of them).
fn low_bytes_mask(size: u8) -> u64 {
    if size >= 8 {
        u64::MAX
    } else {
        (1u64 << (size * 8)) - 1
    }
}

/// The kernel's `tnum_strn`: `(0x0; 0xff)`.
impl fmt::Display for Tnum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:#x}; {:#x})", self.value, self.mask)
    }
}
