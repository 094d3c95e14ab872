//! The verifier log in the kernel's format: at level 1 and 2 every checked instruction as
//! `N: (op) text` (printed by `asm::kernel_log`, the one instruction printer), at level 2 followed
//! by ` ; ` and the registers it changed, `from A to B: state` where a waiting branch resumes,
//! `N: safe` where a path is pruned.

use super::reg::{KernelReg, MapInfo, RegKind};
use super::state::VState;
use crate::asm::disasm::FormatCtx;
use crate::asm::kernel_log::format_insn;
use crate::isa::Insn;
use crate::program::MapDef;
use std::fmt::Write;

/// The log being written.
#[derive(Clone, Debug, Default)]
pub struct Log {
    level: u32,
    text: String,
}

/// The registers and stack of the innermost frame, as `print_verifier_state` prints them.
pub fn state_text(st: &VState, maps: &[MapInfo], only: Option<&VState>) -> String {
    let f = st.cur();
    let mut parts = Vec::new();
    for (i, r) in f.regs.iter().enumerate() {
        if r.kind == RegKind::NotInit {
            continue;
        }
        if let Some(before) = only {
            if before.frames.len() == st.frames.len() && before.cur().regs[i] == *r {
                continue;
            }
        }
        parts.push(format!("R{i}={}", KernelReg { reg: r, maps }));
    }
    for (spi, slot) in f.stack.slots.iter().enumerate() {
        if let Some(before) = only {
            if before.frames.len() == st.frames.len() && before.cur().stack.slots.get(spi) == Some(slot) {
                continue;
            }
        }
        let off = -8 * (spi as i64 + 1);
        if slot.is_spill() && slot.spill_size() == 8 {
            parts.push(format!("fp{off}={}", KernelReg { reg: &slot.spilled, maps }));
        } else if slot.types.iter().any(|t| *t != super::stack::SlotType::Invalid) {
            let s: String = slot.types.iter().map(|t| t.letter()).collect();
            parts.push(format!("fp{off}={s}"));
        }
    }
    parts.join(" ")
}

impl Log {
    /// A log at `level` (0: nothing).
    pub fn new(level: u32) -> Log {
        Log { level, text: String::new() }
    }

    /// True when states are printed (level 2).
    pub fn enabled(&self) -> bool {
        self.level >= 2
    }

    /// One checked instruction; at level 2 with the registers it changed.
    pub fn insn(
        &mut self,
        pc: usize,
        insn: &Insn,
        defs: &[MapDef],
        before: Option<&VState>,
        after: &VState,
        maps: &[MapInfo],
    ) {
        if self.level == 0 {
            return;
        }
        let (raw, _) = crate::isa::encode_one(insn);
        let text = format_insn(insn, &FormatCtx { maps: defs });
        let line = format!("{pc}: ({:02x}) {text}", raw.opcode);
        if let (true, Some(b)) = (self.enabled(), before) {
            let changed = state_text(after, maps, Some(b));
            if changed.is_empty() {
                let _ = writeln!(self.text, "{line}");
            } else {
                let _ = writeln!(self.text, "{line:<37} ; {changed}");
            }
        } else {
            let _ = writeln!(self.text, "{line}");
        }
    }

    /// A waiting branch resumes.
    pub fn branch(&mut self, from: usize, to: usize, st: &VState, maps: &[MapInfo]) {
        if self.enabled() {
            let _ = writeln!(self.text, "from {from} to {to}: {}", state_text(st, maps, None));
        }
    }

    /// The path was pruned at `pc`.
    pub fn safe(&mut self, pc: usize) {
        if self.level > 0 {
            let _ = writeln!(self.text, "{pc}: safe");
        }
    }

    /// A line of its own (the entry state, the verdict).
    pub fn line(&mut self, s: &str) {
        if self.level > 0 {
            let _ = writeln!(self.text, "{s}");
        }
    }

    /// The text so far.
    pub fn into_text(self) -> String {
        self.text
    }
}
