//! The eBPF instruction set (RFC 9669, ISA v4): one model shared by every engine.
//!
//! - [`opcode`]: the raw numbers of the encoding;
//! - [`insn`]: the typed [`Insn`] enum, one variant per kind of instruction;
//! - [`codec`]: decoding bytes into `Insn` (with the kernel's structural checks) and back.

pub mod codec;
pub mod insn;
pub mod opcode;

pub use codec::{decode, decode_one, encode, encode_one, DecodeError, DecodeErrorKind, RawInsn};
pub use insn::{AtomicOp, BinOp, CallTarget, EndianOp, ImmSrc, Insn, JmpCond, LegacyMode, Operand, Reg, Size, Width};

/// Slot index (the kernel's instruction index) of every instruction in `insns`, plus one entry
/// past the end: `pcs[i]` is where `insns[i]` starts.
pub fn slot_pcs(insns: &[Insn]) -> Vec<usize> {
    let mut pcs = Vec::with_capacity(insns.len() + 1);
    let mut pc = 0;
    for insn in insns {
        pcs.push(pc);
        pc += insn.slots();
    }
    pcs.push(pc);
    pcs
}

/// Maps each slot index to the instruction starting there (`None` for the second slot of `lddw`).
pub fn insn_at_slot(insns: &[Insn]) -> Vec<Option<usize>> {
    let mut map = Vec::with_capacity(insns.len() + 1);
    for (i, insn) in insns.iter().enumerate() {
        map.push(Some(i));
        if insn.slots() == 2 {
            map.push(None);
        }
    }
    map
}
