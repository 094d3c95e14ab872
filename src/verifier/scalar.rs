//! What the verifier knows of a number (the scalar part of the kernel's `struct bpf_reg_state`):
//! a [`Tnum`] and signed and unsigned ranges at 64 and 32 bits, kept in sync with each other
//! (`reg_bounds_sync`). ALU transfer functions (`adjust_scalar_min_max_vals`) and branch
//! refinement (`is_branch_taken`, `reg_set_min_max`) follow kernel/bpf/verifier.c.
//!
//! One concept per file: `sync` (`reg_bounds_sync`), `alu` (transfer functions), `coerce`
//! (narrowing and sign extension), `branch` (deciding and refining jumps), `display` (the
//! kernel log's spelling and the student's words).
//!
//! Soundness law, tested with proptest: if concrete `a ∈ A` and `b ∈ B` then `a op b ∈ A.alu(op, B)`,
//! and a branch edge keeps every pair of values that takes it.

mod alu;
mod branch;
mod coerce;
mod display;
mod sync;

use super::tnum::Tnum;

/// The abstract value of a scalar register: every concrete value that lies in all nine views.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScalarValue {
    /// Known and unknown bits (`var_off`).
    pub var_off: Tnum,
    /// Signed 64-bit minimum.
    pub smin: i64,
    /// Signed 64-bit maximum.
    pub smax: i64,
    /// Unsigned 64-bit minimum.
    pub umin: u64,
    /// Unsigned 64-bit maximum.
    pub umax: u64,
    /// Signed minimum of the low 32 bits.
    pub s32_min: i32,
    /// Signed maximum of the low 32 bits.
    pub s32_max: i32,
    /// Unsigned minimum of the low 32 bits.
    pub u32_min: u32,
    /// Unsigned maximum of the low 32 bits.
    pub u32_max: u32,
}

impl ScalarValue {
    /// Any 64-bit value (`__mark_reg_unknown`).
    pub fn unknown() -> ScalarValue {
        ScalarValue {
            var_off: Tnum::UNKNOWN,
            smin: i64::MIN,
            smax: i64::MAX,
            umin: 0,
            umax: u64::MAX,
            s32_min: i32::MIN,
            s32_max: i32::MAX,
            u32_min: 0,
            u32_max: u32::MAX,
        }
    }

    /// Exactly `v` (`__mark_reg_known`).
    pub fn constant(v: u64) -> ScalarValue {
        ScalarValue {
            var_off: Tnum::constant(v),
            smin: v as i64,
            smax: v as i64,
            umin: v,
            umax: v,
            s32_min: v as i32,
            s32_max: v as i32,
            u32_min: v as u32,
            u32_max: v as u32,
        }
    }

    /// Any value a load of `size` bytes gives: zero-extended, or sign-extended when `signed`
    /// (`coerce_reg_to_size` / `coerce_reg_to_size_sx` applied to an unknown value).
    /// As in the kernel, the sign-extended form is not synced afterwards.
    pub fn loaded(size: u8, signed: bool) -> ScalarValue {
        ScalarValue::unknown().truncated(size, signed)
    }

    /// The low `size` bytes (1, 2, 4; 8 changes nothing) of this value, zero-extended, or
    /// sign-extended when `signed` (`coerce_reg_to_size` / `coerce_reg_to_size_sx`): what a
    /// narrow load of a known value (a spilled register, say) gives.
    pub fn truncated(&self, size: u8, signed: bool) -> ScalarValue {
        let mut v = *self;
        if size < 8 {
            if signed {
                v.coerce_to_size_sx(size);
            } else {
                v.coerce_to_size(size);
            }
        }
        v
    }

    /// Every value in `[min, max]` (unsigned), synced.
    pub fn urange(min: u64, max: u64) -> ScalarValue {
        let mut v = ScalarValue { umin: min, umax: max, ..ScalarValue::unknown() };
        v.sync();
        v
    }

    /// The constant, when exactly one value is possible.
    pub fn const_value(&self) -> Option<u64> {
        self.var_off.is_const().then_some(self.var_off.value)
    }

    /// The constant low 32 bits, when they are known.
    pub fn const_value32(&self) -> Option<u32> {
        self.var_off.subreg_is_const().then_some(self.var_off.value as u32)
    }

    /// True when the concrete `x` is a member of every view.
    pub fn contains(&self, x: u64) -> bool {
        let (s, x32, s32) = (x as i64, x as u32, x as i32);
        self.var_off.contains_value(x)
            && (self.smin..=self.smax).contains(&s)
            && (self.umin..=self.umax).contains(&x)
            && (self.s32_min..=self.s32_max).contains(&s32)
            && (self.u32_min..=self.u32_max).contains(&x32)
    }

    /// True when every member of `self` is a member of `old`: the pruning test for scalars
    /// (`range_within` and `tnum_in`).
    pub fn is_subset_of(&self, old: &ScalarValue) -> bool {
        old.umin <= self.umin
            && old.umax >= self.umax
            && old.smin <= self.smin
            && old.smax >= self.smax
            && old.u32_min <= self.u32_min
            && old.u32_max >= self.u32_max
            && old.s32_min <= self.s32_min
            && old.s32_max >= self.s32_max
            && old.var_off.contains(self.var_off)
    }

    /// The 32-bit result written back to a 64-bit register: low half kept, high half zero
    /// (`zext_32_to_64`).
    /// As the kernel's, it does not sync: callers do.
    pub fn zext32(&self) -> ScalarValue {
        let mut v = *self;
        v.zext_32_to_64();
        v
    }
}
