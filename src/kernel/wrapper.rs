//! The r0 wrapper: the program as written, with a few instructions around it that record all 64
//! bits of r0 (test_run reports only 32) and, for `mem` programs, set r1/r2 to the buffer.
//!
//! ```text
//!   [r1 = map_value(buf) ll]    ; mem programs only: the conformance convention,
//!   [r2 = LEN]                  ;   r1 = buffer (r1 = 0 when empty), r2 = length
//!   goto +4                     ; over the epilogue, into the program
//!   r1 = map_value(r0_map) ll   ; the epilogue: every exit of the main program
//!   *(u64 *)(r1 + 0) = r0       ;   comes here (its `exit` is rewritten into a
//!   exit                        ;   jump), so r0 is stored, then returned
//!   <the program>
//! ```
//! The wrapper adds no frame (the program is not called, its main exits jump), no stack (the
//! epilogue stores through a direct map-value pointer) and keeps every jump and call offset of
//! the program unchanged: the program sits after the wrapper at a constant shift, each rewritten
//! `exit` keeps its single slot. What the verifier says about the wrapped program is therefore
//! what it says about the program; [`Wrapped::unwrap_log`] takes the shift back out of every
//! number and drops the wrapper's own lines, so the student sees their program's log only.

use crate::isa::{self, BinOp, ImmSrc, Insn, Operand, Reg, Size, Width};
use crate::runtime::helpers::BPF_FUNC_TAIL_CALL;

/// How a `mem` program's buffer reaches it: the fd of the one-element array map holding the
/// buffer (none for an empty buffer, where r1 = 0 as in the interpreter) and its length.
#[derive(Clone, Copy, Debug)]
pub struct MemBuffer {
    /// Array map whose element 0 is the buffer.
    pub map_fd: Option<i32>,
    /// Buffer length, put in r2.
    pub len: u32,
}

/// A program inside the wrapper, with what it takes to read the kernel's answer back in the
/// program's own numbering.
#[derive(Clone, Debug)]
pub struct Wrapped {
    /// The instructions to load.
    pub insns: Vec<Insn>,
    /// Slots before the program's first instruction.
    pub shift: usize,
    /// Whether the epilogue is there (r0 is stored in the r0 map).
    pub captures_r0: bool,
    /// Slot pcs (the program's own) of the main program's exits, rewritten into jumps.
    exits: Vec<usize>,
}

/// Wraps `program` (see the module docs). `r0_map_fd` asks for the epilogue; it is left out when
/// the wrapper could change the verdict: a main program without `exit` (the epilogue would be
/// unreachable) or a jump or call whose target lies outside the program (it would land in the
/// wrapper instead of being refused), and a program that makes tail calls. `mem` adds the r1/r2
/// prologue.
pub fn wrap(insns: &[Insn], r0_map_fd: Option<i32>, mem: Option<MemBuffer>) -> Wrapped {
    let mut out = Vec::new();
    if let Some(m) = mem {
        out.push(match m.map_fd {
            Some(fd) => Insn::LoadImm64 { dst: Reg::R1, src: ImmSrc::MapValue, imm: fd, next_imm: 0 },
            None => Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: Reg::R1, src: Operand::Imm(0) },
        });
        let r2 = Reg::new(2).expect("r2 is a register");
        out.push(Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: r2, src: Operand::Imm(m.len as i32) });
    }
    let pcs = isa::slot_pcs(insns);
    let exits = main_exits(insns, &pcs);
    // A tail call never returns: its target's `exit` would leave without passing the epilogue,
    // and the r0 map would hold a stale value. Such programs report the 32 bits test_run gives.
    let tail_call =
        insns.iter().any(|i| matches!(i, Insn::Call(isa::CallTarget::Helper(id)) if *id as u32 == BPF_FUNC_TAIL_CALL));
    let fd = r0_map_fd.filter(|_| !exits.is_empty() && !tail_call && targets_in_range(insns, &pcs));
    let Some(fd) = fd else {
        let shift = isa::slot_pcs(&out).last().copied().unwrap_or(0);
        out.extend_from_slice(insns);
        return Wrapped { insns: out, shift, captures_r0: false, exits: Vec::new() };
    };
    // lddw (2 slots) + store + exit.
    out.push(Insn::Ja { off: 4, long: false });
    let epilogue = isa::slot_pcs(&out).last().copied().unwrap_or(0);
    out.push(Insn::LoadImm64 { dst: Reg::R1, src: ImmSrc::MapValue, imm: fd, next_imm: 0 });
    out.push(Insn::Store { size: Size::DW, dst: Reg::R1, off: 0, src: Operand::Reg(Reg::R0) });
    out.push(Insn::Exit);
    let shift = epilogue + 4;
    for (insn, &pc) in insns.iter().zip(&pcs) {
        if exits.binary_search(&pc).is_ok() {
            // From wrapped slot shift + pc back to the epilogue.
            let off = epilogue as i64 - (shift + pc + 1) as i64;
            out.push(match i16::try_from(off) {
                Ok(off) => Insn::Ja { off: off as i32, long: false },
                Err(_) => Insn::Ja { off: off as i32, long: true },
            });
        } else {
            out.push(*insn);
        }
    }
    Wrapped { insns: out, shift, captures_r0: true, exits }
}

/// Slot pcs of the `exit`s of the main program: the instructions before the first subprogram
/// (the first target of a local call or a function pointer), as the kernel splits them.
fn main_exits(insns: &[Insn], pcs: &[usize]) -> Vec<usize> {
    let first_sub = insns
        .iter()
        .zip(pcs)
        .filter(|(i, _)| matches!(i, Insn::Call(isa::CallTarget::Local(_)) | Insn::LoadImm64 { src: ImmSrc::Func, .. }))
        .filter_map(|(i, &pc)| Some(pc as i64 + 1 + i.branch_offset()?))
        .filter(|&t| t > 0)
        .min()
        .unwrap_or(i64::MAX);
    insns
        .iter()
        .zip(pcs)
        .filter(|(i, &pc)| matches!(i, Insn::Exit) && (pc as i64) < first_sub)
        .map(|(_, &pc)| pc)
        .collect()
}

/// True when every jump, call and function pointer lands inside the program.
fn targets_in_range(insns: &[Insn], pcs: &[usize]) -> bool {
    let end = pcs.last().copied().unwrap_or(0) as i64;
    insns.iter().zip(pcs).all(|(i, &pc)| i.branch_offset().is_none_or(|off| (0..end).contains(&(pc as i64 + 1 + off))))
}

impl Wrapped {
    /// The program's own slot pc for the wrapped program's slot `pc`, or `None` for the wrapper.
    pub fn program_pc(&self, pc: usize) -> Option<usize> {
        pc.checked_sub(self.shift)
    }

    fn is_main_exit(&self, pc: usize) -> bool {
        self.exits.binary_search(&pc).is_ok()
    }

    /// The verifier log of the wrapped program as the log of the program as written: every
    /// instruction number loses the shift, the wrapper's own lines are dropped and each
    /// rewritten `exit` is shown as the `exit` it is. Returns the log and whether a line that
    /// is not an instruction of the wrapper spoke of the wrapper (then the log cannot be
    /// attributed to the program alone).
    pub fn unwrap_log(&self, log: &str) -> (String, bool) {
        let mut out = String::with_capacity(log.len());
        let mut foreign = false;
        for line in log.split_inclusive('\n') {
            let body = line.trim_start();
            let indent = &line[..line.len() - body.len()];
            let digits = body.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && body[digits..].starts_with(':') {
                // `N: (op) insn`, `N: R1=...` state lines, `N: safe`, the live-registers table.
                let Some(pc) = body[..digits].parse().ok().and_then(|n| self.program_pc(n)) else {
                    continue;
                };
                let rest = &body[digits..];
                // Right-aligned as the kernel prints the live-registers table (`%8d:`).
                let width = if indent.is_empty() { 0 } else { indent.len() + digits };
                out.push_str(&format!("{pc:>width$}"));
                match rest.find("(05) goto pc").or_else(|| rest.find("(06) gotol pc")) {
                    Some(at) if self.is_main_exit(pc) => {
                        out.push_str(&rest[..at]);
                        out.push_str("(95) exit");
                        if line.ends_with('\n') {
                            out.push('\n');
                        }
                    }
                    _ => out.push_str(&self.renumber_words(rest).0),
                }
                continue;
            }
            let (fixed, wrapper) = self.renumber_words(line);
            if wrapper {
                // A state or precision line about the wrapper's instructions, or a message
                // naming one of them.
                let about_insn = line.contains("before ") || line.starts_with("from ") || line.contains("_idx ");
                foreign |= !about_insn;
                continue;
            }
            out.push_str(&fixed);
        }
        (out, foreign)
    }

    /// Renumbers the instruction numbers in one line of text: those after `insn `, `to `,
    /// `from `, `at `, `before `, `@`, `alloc_insn=` and `_idx `. Also says whether one of them
    /// was the wrapper's.
    fn renumber_words(&self, line: &str) -> (String, bool) {
        const KEYS: [&str; 8] = ["insn ", "to ", "from ", "at ", "before ", "@", "alloc_insn=", "_idx "];
        let mut out = String::with_capacity(line.len());
        let mut wrapper = false;
        let mut rest = line;
        while !rest.is_empty() {
            let next = KEYS
                .iter()
                .filter_map(|k| rest.find(k).map(|at| (at, k.len())))
                .filter(|&(at, _)| {
                    // A whole word (`max_states_per_insn 0` is not an instruction number).
                    let b = rest.as_bytes();
                    at == 0 || b[at] == b'_' || !(b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_')
                })
                .min();
            let Some((at, klen)) = next else {
                out.push_str(rest);
                break;
            };
            let after = at + klen;
            out.push_str(&rest[..after]);
            rest = &rest[after..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                continue;
            }
            match rest[..digits].parse::<usize>().ok() {
                Some(n) => match self.program_pc(n) {
                    Some(pc) => out.push_str(&pc.to_string()),
                    // `func#0 @0`: the main function starts where the program does.
                    None if klen == 1 => out.push('0'),
                    None => {
                        wrapper = true;
                        out.push_str(&rest[..digits]);
                    }
                },
                None => out.push_str(&rest[..digits]),
            }
            rest = &rest[digits..];
        }
        (out, wrapper)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::CallTarget;

    fn mov(imm: i32) -> Insn {
        Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: Reg::R0, src: Operand::Imm(imm) }
    }

    #[test]
    fn main_exits_become_jumps_to_the_epilogue_and_offsets_are_kept() {
        // r0 = 1; call +1; exit; sub: r0 = 2; exit
        let p = [mov(1), Insn::Call(CallTarget::Local(1)), Insn::Exit, mov(2), Insn::Exit];
        let w = wrap(&p, Some(7), None);
        assert_eq!(w.shift, 5);
        assert!(w.captures_r0);
        // Vector indexes: the lddw is one entry for two slots.
        assert_eq!(w.insns[4..6], p[..2]);
        // The main exit (pc 2, wrapped slot 7) jumps back to the epilogue at slot 1.
        assert_eq!(w.insns[6], Insn::Ja { off: -7, long: false });
        // The subprogram's exit stays an exit.
        assert_eq!(w.insns[8], Insn::Exit);
    }

    #[test]
    fn no_epilogue_when_it_could_change_the_verdict() {
        let out_of_range =
            [Insn::Jmp { width: Width::W64, cond: isa::JmpCond::Eq, dst: Reg::R0, src: Operand::Imm(0), off: -5 }];
        assert!(!wrap(&out_of_range, Some(7), None).captures_r0);
        assert!(!wrap(&[mov(0), Insn::Ja { off: -2, long: false }], Some(7), None).captures_r0);
        assert!(!wrap(&[Insn::Call(CallTarget::Helper(12)), Insn::Exit], Some(7), None).captures_r0);
        let mem = wrap(&[Insn::Exit], None, Some(MemBuffer { map_fd: None, len: 4 }));
        assert_eq!((mem.shift, mem.insns.len()), (2, 3));
    }

    #[test]
    fn the_log_speaks_of_the_program_only() {
        let w = wrap(
            &[
                Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: Reg::new(1).unwrap(), src: Operand::Imm(5) },
                Insn::Exit,
            ],
            Some(7),
            None,
        );
        let log = "func#0 @0\nfunc#1 @9\n0: R1=ctx() R10=fp0\n0: (05) goto pc+4\n5: (b7) r1 = 5                        ; R1_w=5\n6: (05) goto pc-6\n1: (18) r1 = 0xffff0000 ; R1=map_value\n3: (7b) *(u64 *)(r1 +0) = r0\nR0 !read_ok\nLive regs before insn:\n      5: .......... (b7) r1 = 5\n      6: 0......... (05) goto pc-6\nprocessed 3 insns max_states_per_insn 0\njump out of range from insn 6 to 9\n";
        let (out, foreign) = w.unwrap_log(log);
        assert_eq!(
            out,
            "func#0 @0\nfunc#1 @4\n0: (b7) r1 = 5                        ; R1_w=5\n1: (95) exit\nR0 !read_ok\nLive regs before insn:\n      0: .......... (b7) r1 = 5\n      1: 0......... (95) exit\nprocessed 3 insns max_states_per_insn 0\njump out of range from insn 1 to 4\n"
        );
        assert!(!foreign);
        let (out, foreign) = w.unwrap_log("0: (05) goto pc+4\nunreachable insn 2\n");
        assert!(out.is_empty() && foreign, "a message naming the wrapper's slot 2 cannot be the program's");
    }
}
