//! Conditional jumps. Every 64-bit condition has its own decoded op; the 32-bit ones come here.

use crate::isa::JmpCond;

/// Decides a 32-bit (`BPF_JMP32`) condition on the low halves.
#[inline(always)]
pub fn holds32(cond: JmpCond, a: u32, b: u32) -> bool {
    match cond {
        JmpCond::Eq => a == b,
        JmpCond::Gt => a > b,
        JmpCond::Ge => a >= b,
        JmpCond::Set => a & b != 0,
        JmpCond::Ne => a != b,
        JmpCond::Sgt => (a as i32) > (b as i32),
        JmpCond::Sge => (a as i32) >= (b as i32),
        JmpCond::Lt => a < b,
        JmpCond::Le => a <= b,
        JmpCond::Slt => (a as i32) < (b as i32),
        JmpCond::Sle => (a as i32) <= (b as i32),
    }
}
