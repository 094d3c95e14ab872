//! Strategies shared by the differential tests (included with `mod`): immediates rich in edge
//! values and the one-register ALU instructions.
#![allow(dead_code)]

use ebpf_lab::isa::{EndianOp, ImmSrc, Insn, JmpCond, Operand, Reg, Width};
use proptest::prelude::*;

/// Immediates rich in edge values.
pub fn imm() -> impl Strategy<Value = i32> {
    prop_oneof![
        3 => any::<i32>(),
        1 => prop::sample::select(vec![0, 1, -1, 2, 31, 32, 63, 64, i32::MIN, i32::MAX, 0x7fff, -0x8000, 0xff, 0xffff]),
    ]
}

/// 64-bit constants rich in edge values.
pub fn imm64() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => any::<u64>(),
        1 => prop::sample::select(vec![0, 1, u64::MAX, i64::MIN as u64, i64::MAX as u64, 0xffff_ffff, 0x8000_0000, 0x1_0000_0000]),
    ]
}

/// ALU64 or ALU32.
pub fn width() -> impl Strategy<Value = Width> {
    prop_oneof![Just(Width::W64), Just(Width::W32)]
}

/// `lddw dst, v`.
pub fn set(dst: Reg, v: u64) -> Insn {
    Insn::LoadImm64 { dst, src: ImmSrc::Imm, imm: v as u32 as i32, next_imm: (v >> 32) as u32 as i32 }
}

/// The instructions that change one register in place: `neg`, byte-order conversions and
/// `lddw` of a constant, on a register the strategies `dst` makes pick.
pub fn unary<S: Strategy<Value = Reg> + 'static>(dst: fn() -> S) -> impl Strategy<Value = Insn> {
    let neg = (width(), dst()).prop_map(|(width, dst)| Insn::Neg { width, dst });
    let endian = (
        prop::sample::select(vec![EndianOp::ToLe, EndianOp::ToBe, EndianOp::Swap]),
        prop::sample::select(vec![16u32, 32, 64]),
        dst(),
    )
        .prop_map(|(op, bits, dst)| Insn::Endian { op, bits, dst });
    let lddw = (dst(), imm64()).prop_map(|(dst, v)| set(dst, v));
    prop_oneof![neg, endian, lddw]
}

/// A forward conditional jump over `skip` items, its offset fixed when the program is built.
#[derive(Clone, Copy, Debug)]
pub struct ForwardJump {
    /// JMP or JMP32.
    pub width: Width,
    /// The condition.
    pub cond: JmpCond,
    /// Compared register.
    pub dst: Reg,
    /// Compared with.
    pub src: Operand,
    /// Items jumped over.
    pub skip: u8,
}

impl ForwardJump {
    /// The jump with slot offset `off`.
    pub fn insn(&self, off: i16) -> Insn {
        Insn::Jmp { width: self.width, cond: self.cond, dst: self.dst, src: self.src, off }
    }
}

/// Forward jumps comparing registers `regs` picks with a register or an immediate.
pub fn forward_jump<S: Strategy<Value = Reg> + 'static>(regs: fn() -> S) -> impl Strategy<Value = ForwardJump> {
    (width(), prop::sample::select(JmpCond::ALL.to_vec()), regs(), regs(), imm(), any::<bool>(), 0u8..6).prop_map(
        |(width, cond, dst, src, imm, use_reg, skip)| ForwardJump {
            width,
            cond,
            dst,
            src: if use_reg { Operand::Reg(src) } else { Operand::Imm(imm) },
            skip,
        },
    )
}
