//! Structure checked before any path is explored, as the kernel's `check_subprogs` and
//! `check_cfg` do: subprogram boundaries (every `call` to a local function starts one), jumps out
//! of their function, a last instruction that is neither `exit` nor a jump, unreachable
//! instructions, jumps into the middle of an `lddw`. Also what exploration needs from the shape:
//! prune points and which registers are live before each instruction (`compute_live_registers`).

use crate::isa::{CallTarget, ImmSrc, Insn, LegacyMode, Operand};
use crate::runtime::helpers;

/// The program's shape, by slot index.
#[derive(Clone, Debug)]
pub struct Cfg {
    /// Instruction index of each slot (`None` for the second half of `lddw`).
    pub insn_at: Vec<Option<usize>>,
    /// Slot index of each instruction.
    pub slot_of: Vec<usize>,
    /// Subprogram start slots, ascending; the first is 0.
    pub subprogs: Vec<usize>,
    /// Slots where exploration may stop on an already verified state.
    pub prune: Vec<bool>,
    /// Registers live before each slot (bit n for `rn`).
    pub live: Vec<u16>,
}

/// A structural error: the kernel's message and, where it names one, the slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CfgError {
    /// The slot the message is about.
    pub insn: Option<usize>,
    /// The kernel's words.
    pub message: String,
}

fn err(insn: Option<usize>, message: String) -> CfgError {
    CfgError { insn, message }
}

/// Jump and call targets of the instruction at `slot` (not the fall-through).
fn branch_target(insn: &Insn, slot: usize) -> Option<i64> {
    insn.branch_offset().map(|off| slot as i64 + off + 1)
}

const CALLER_SAVED: u16 = 0b11_1111;

fn bit(r: crate::isa::Reg) -> u16 {
    if r.num() == 10 {
        0
    } else {
        1 << r.num()
    }
}

fn op_bit(o: &Operand) -> u16 {
    match o {
        Operand::Reg(r) => bit(*r),
        Operand::Imm(_) => 0,
    }
}

/// (used, defined) registers of one instruction, as `compute_insn_live_regs`.
fn use_def(insn: &Insn) -> (u16, u16) {
    use crate::isa::BinOp;
    match insn {
        Insn::Bin { op, dst, src, .. } => match op {
            BinOp::Mov | BinOp::MovSx8 | BinOp::MovSx16 | BinOp::MovSx32 => (op_bit(src), bit(*dst)),
            _ => (bit(*dst) | op_bit(src), bit(*dst)),
        },
        Insn::Neg { dst, .. } | Insn::Endian { dst, .. } => (bit(*dst), bit(*dst)),
        Insn::Load { dst, src, .. } => (bit(*src), bit(*dst)),
        Insn::Store { dst, src, .. } => (bit(*dst) | op_bit(src), 0),
        Insn::Atomic { op, fetch, dst, src, .. } => {
            if *op == crate::isa::AtomicOp::CmpXchg {
                (bit(*dst) | bit(*src) | 1, 1)
            } else if *fetch || *op == crate::isa::AtomicOp::Xchg {
                (bit(*dst) | bit(*src), bit(*src))
            } else {
                (bit(*dst) | bit(*src), 0)
            }
        }
        Insn::LoadImm64 { dst, .. } => (0, bit(*dst)),
        Insn::LegacyLoad { mode, src, .. } => {
            let ind = if *mode == LegacyMode::Ind { bit(*src) } else { 0 };
            (1 << 6 | ind, CALLER_SAVED)
        }
        Insn::Exit => (1, 0),
        Insn::Ja { .. } => (0, 0),
        Insn::Jmp { dst, src, .. } => (bit(*dst) | op_bit(src), 0),
        Insn::Call(CallTarget::Helper(id)) => {
            let args = u32::try_from(*id).ok().and_then(helpers::helper).and_then(|h| h.proto).map(|p| p.args.len());
            let used = match args {
                Some(n) => ((1u16 << (n + 1)) - 1) & !1,
                None => CALLER_SAVED & !1,
            };
            (used, CALLER_SAVED)
        }
        Insn::Call(_) | Insn::Callx { .. } => (CALLER_SAVED & !1, CALLER_SAVED),
    }
}

/// True for a call of a helper that calls back into the program (`is_sync_callback_calling_insn`).
pub fn is_callback_call(insn: &Insn) -> bool {
    matches!(insn, Insn::Call(CallTarget::Helper(id)) if crate::runtime::callback::calls_back(*id as i64))
}

/// Checks the program's structure and computes its shape.
pub fn analyse(insns: &[Insn]) -> Result<Cfg, CfgError> {
    let slot_of = crate::isa::slot_pcs(insns);
    let len = slot_of.last().copied().unwrap_or(0);
    let mut insn_at = vec![None; len];
    for (i, &s) in slot_of.iter().take(insns.len()).enumerate() {
        insn_at[s] = Some(i);
    }
    let at = |s: usize| insn_at.get(s).copied().flatten().map(|i| &insns[i]);
    if len == 0 {
        return Err(err(None, "last insn is not an exit or jmp".into()));
    }
    // Subprograms: the targets of local calls and of callback references.
    let mut subprogs = vec![0usize];
    for (i, insn) in insns.iter().enumerate() {
        let callee = matches!(insn, Insn::Call(CallTarget::Local(_)) | Insn::LoadImm64 { src: ImmSrc::Func, .. });
        if callee {
            let t = branch_target(insn, slot_of[i]).unwrap_or(-1);
            if t < 0 || t >= len as i64 {
                return Err(err(Some(slot_of[i]), "call to invalid destination".into()));
            }
            subprogs.push(t as usize);
        }
    }
    subprogs.sort_unstable();
    subprogs.dedup();
    // Jumps stay within their function; each function ends with exit or a jump.
    let mut sub = 0;
    for s in 0..len {
        while sub + 1 < subprogs.len() && s >= subprogs[sub + 1] {
            sub += 1;
        }
        let start = subprogs[sub];
        let end = subprogs.get(sub + 1).copied().unwrap_or(len);
        let insn = at(s);
        if let Some(i @ (Insn::Ja { .. } | Insn::Jmp { .. })) = insn {
            let t = branch_target(i, s).unwrap_or(0);
            if t < start as i64 || t >= end as i64 {
                return Err(err(Some(s), format!("jump out of range from insn {s} to {t}")));
            }
        }
        if s == end - 1 && !matches!(insn, Some(Insn::Exit | Insn::Ja { .. })) {
            return Err(err(Some(s), "last insn is not an exit or jmp".into()));
        }
    }
    // Reachability from the entry and every called function (`check_cfg`).
    let mut seen = vec![false; len];
    let mut entered = vec![false; len];
    let mut work = vec![0usize];
    entered[0] = true;
    while let Some(s) = work.pop() {
        if seen[s] {
            continue;
        }
        seen[s] = true;
        let Some(insn) = at(s) else { continue };
        let mut next = Vec::new();
        if !insn.is_terminator() {
            next.push(s + insn.slots());
        }
        if let Some(t) = branch_target(insn, s) {
            next.push(t as usize);
        }
        for t in next {
            if t >= len {
                return Err(err(Some(s), format!("jump out of range from insn {s} to {t}")));
            }
            entered[t] = true;
            work.push(t);
        }
    }
    let mut s = 0;
    while s < len {
        if !seen[s] {
            return Err(err(Some(s), format!("unreachable insn {s}")));
        }
        if let Some(Insn::LoadImm64 { .. }) = at(s) {
            if entered.get(s + 1).copied().unwrap_or(false) {
                return Err(err(Some(s), format!("jump into the middle of ldimm64 insn {s}")));
            }
            s += 1;
        }
        s += 1;
    }
    // Prune points: jump targets, conditional jumps, after calls, and calls to functions.
    let mut prune = vec![false; len];
    for (i, insn) in insns.iter().enumerate() {
        let s = slot_of[i];
        match insn {
            Insn::Ja { .. } => prune[branch_target(insn, s).unwrap_or(0) as usize] = true,
            Insn::Jmp { .. } => {
                prune[s] = true;
                prune[branch_target(insn, s).unwrap_or(0) as usize] = true;
            }
            Insn::Call(target) => {
                if s + 1 < len {
                    prune[s + 1] = true;
                }
                if matches!(target, CallTarget::Local(_)) {
                    prune[s] = true;
                    prune[branch_target(insn, s).unwrap_or(0) as usize] = true;
                }
                // A helper that calls back is revisited after each callback visit: its state is
                // kept there to see the visits converge (`mark_force_checkpoint`).
                if is_callback_call(insn) {
                    prune[s] = true;
                }
            }
            _ => {}
        }
    }
    // Liveness, backwards to a fixed point; calls flow to the next instruction only.
    let mut live = vec![0u16; len + 2];
    let mut changed = true;
    while changed {
        changed = false;
        for (i, insn) in insns.iter().enumerate().rev() {
            let s = slot_of[i];
            let mut out = 0u16;
            match insn {
                Insn::Exit => {}
                Insn::Ja { .. } => out = live[branch_target(insn, s).unwrap_or(0) as usize],
                Insn::Jmp { .. } => {
                    out = live[s + 1] | live[branch_target(insn, s).unwrap_or(0) as usize];
                }
                _ => out = live[s + insn.slots()],
            }
            let (u, d) = use_def(insn);
            let inn = u | (out & !d);
            if inn != live[s] {
                live[s] = inn;
                changed = true;
            }
        }
    }
    live.truncate(len);
    Ok(Cfg { insn_at, slot_of, subprogs, prune, live })
}

impl Cfg {
    /// The instruction at slot `s`, if one starts there.
    pub fn insn<'a>(&self, insns: &'a [Insn], s: usize) -> Option<&'a Insn> {
        self.insn_at.get(s).copied().flatten().map(|i| &insns[i])
    }

    /// The subprogram containing slot `s`.
    pub fn subprog_of(&self, s: usize) -> usize {
        self.subprogs.partition_point(|&start| start <= s).saturating_sub(1)
    }
}
