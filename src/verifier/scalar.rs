//! What the verifier knows of a number (the scalar part of the kernel's `struct bpf_reg_state`):
//! a [`Tnum`] and signed and unsigned ranges at 64 and 32 bits, kept in sync with each other
//! (`reg_bounds_sync`). ALU transfer functions (`adjust_scalar_min_max_vals`) and branch
//! refinement (`is_branch_taken`, `reg_set_min_max`) follow kernel/bpf/verifier.c.
//!
//! Soundness law, tested with proptest: if concrete `a ∈ A` and `b ∈ B` then `a op b ∈ A.alu(op, B)`,
//! and a branch edge keeps every pair of values that takes it.

use super::tnum::Tnum;
use crate::isa::{BinOp, EndianOp, JmpCond, Width};
use std::fmt;

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
        todo!()
    }

    /// Exactly `v` (`__mark_reg_known`).
    pub fn constant(v: u64) -> ScalarValue {
        todo!("{v}")
    }

    /// Any value a load of `size` bytes gives: zero-extended, or sign-extended when `signed`
    /// (`coerce_reg_to_size` / `coerce_reg_to_size_sx` applied to an unknown value).
    pub fn loaded(size: u8, signed: bool) -> ScalarValue {
        todo!("{size} {signed}")
    }

    /// Every value in `[min, max]` (unsigned), synced.
    pub fn urange(min: u64, max: u64) -> ScalarValue {
        todo!("{min} {max}")
    }

    /// The constant, when exactly one value is possible.
    pub fn const_value(&self) -> Option<u64> {
        todo!()
    }

    /// The constant low 32 bits, when they are known.
    pub fn const_value32(&self) -> Option<u32> {
        todo!()
    }

    /// True when the concrete `x` is a member of every view.
    pub fn contains(&self, x: u64) -> bool {
        todo!("{x}")
    }

    /// True when every member of `self` is a member of `old`: the pruning test for scalars
    /// (`range_within` and `tnum_in`).
    pub fn is_subset_of(&self, old: &ScalarValue) -> bool {
        todo!("{old:?}")
    }

    /// Tightens every view from the others (`reg_bounds_sync`: `__update_reg_bounds`,
    /// `__reg_deduce_bounds`, `__reg_bound_offset`). Idempotent; never loses a member.
    pub fn sync(&mut self) {
        todo!()
    }

    /// The 32-bit result written back to a 64-bit register: low half kept, high half zero
    /// (`zext_32_to_64`).
    pub fn zext32(&self) -> ScalarValue {
        todo!()
    }

    /// `self op src` at `width`, for every binary ALU operation including the moves
    /// (`Mov` gives `src`; `MovSx*` sign-extends `src`). Division and modulo follow the kernel's
    /// run-time rules (by zero: 0 and dst unchanged). 32-bit results are zero-extended.
    /// Shift amounts are masked to the width as at run time; a shift the kernel would refuse is
    /// the caller's to refuse first.
    pub fn alu(&self, op: BinOp, width: Width, src: &ScalarValue) -> ScalarValue {
        todo!("{op:?} {width:?} {src:?}")
    }

    /// `-self` at `width`.
    pub fn neg(&self, width: Width) -> ScalarValue {
        todo!("{width:?}")
    }

    /// A byte-order instruction on the low `bits` (16, 32 or 64).
    pub fn endian(&self, op: EndianOp, bits: u32) -> ScalarValue {
        todo!("{op:?} {bits}")
    }

    /// Whether `self cond other` at `width` is always true (`Some(true)`), always false
    /// (`Some(false)`), or either (`None`) (`is_scalar_branch_taken`).
    pub fn branch_taken(&self, cond: JmpCond, width: Width, other: &ScalarValue) -> Option<bool> {
        todo!("{cond:?} {width:?} {other:?}")
    }

    /// The two operands narrowed to the values for which `self cond other` is `taken`
    /// (`reg_set_min_max` / `regs_refine_cond_op`), or `None` when no pair of values can take
    /// that edge.
    pub fn refine(
        &self,
        cond: JmpCond,
        width: Width,
        other: &ScalarValue,
        taken: bool,
    ) -> Option<(ScalarValue, ScalarValue)> {
        todo!("{cond:?} {width:?} {other:?} {taken}")
    }

    /// The student's words: "0", "scalar in [0, 255]", "any scalar", "scalar in [0, 4088], a
    /// multiple of 8".
    pub fn describe(&self) -> String {
        todo!()
    }
}

/// The kernel log's spelling of a scalar after `Rn=`: `5`, `scalar()`,
/// `scalar(smin=smin32=0,smax=umax=smax32=umax32=255,var_off=(0x0; 0xff))` (`print_scalar_ranges`).
impl fmt::Display for ScalarValue {
    fn fmt(&self, _f: &mut fmt::Formatter<'_>) -> fmt::Result {
        todo!()
    }
}
