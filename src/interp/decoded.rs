//! The pre-decoded program: [`Program::insns`] turned once into a compact array made for fast
//! dispatch.
//!
//! - jump and call targets are absolute indices into the decoded array (a `lddw` is one entry,
//!   so slot pcs are translated once here instead of on every taken branch);
//! - `Operand::Imm` / `Operand::Reg` become separate variants, so the hot loop never branches on
//!   the operand kind, and immediates are pre-extended to the width they are used at;
//! - register numbers are stored masked to 4 bits, so indexing a 16-entry register file needs no
//!   bounds check;
//! - a final `FellOff` entry catches execution running past the last instruction, and every jump
//!   target beyond the end points to it.

use super::error::{ErrorKind, RuntimeError};
use super::memory::{CODE_BASE, MAP_PTR_BASE, MAP_PTR_STRIDE, MAP_VALUE_BASE, MAP_VALUE_STRIDE};
use crate::isa::{AtomicOp, BinOp, CallTarget, EndianOp, ImmSrc, Insn, JmpCond, LegacyMode, Operand, Reg, Size, Width};
use crate::program::Program;

/// Index of a register in the 16-entry register file.
pub type R = u8;

/// One decoded instruction. `d`/`s` are register numbers, `t` a decoded-array jump target,
/// `k` a pre-extended immediate (u64 for 64-bit ops, u32 for 32-bit ops).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
// `repr(u8)` (each variant a C struct after the tag) with fields declared small to large puts `d` at byte 1 and `s` at byte 2 in every
// variant, so the dispatch reads the same few fields whatever the op (Rust's own layout
// scatters them, and the loop then extracts each variant's fields before jumping).
#[repr(u8)]
pub enum Op {
    Add64I {
        d: R,
        k: u64,
    },
    Add64R {
        d: R,
        s: R,
    },
    Sub64I {
        d: R,
        k: u64,
    },
    Sub64R {
        d: R,
        s: R,
    },
    Mul64I {
        d: R,
        k: u64,
    },
    Mul64R {
        d: R,
        s: R,
    },
    Div64I {
        d: R,
        k: u64,
    },
    Div64R {
        d: R,
        s: R,
    },
    SDiv64I {
        d: R,
        k: u64,
    },
    SDiv64R {
        d: R,
        s: R,
    },
    Mod64I {
        d: R,
        k: u64,
    },
    Mod64R {
        d: R,
        s: R,
    },
    SMod64I {
        d: R,
        k: u64,
    },
    SMod64R {
        d: R,
        s: R,
    },
    Or64I {
        d: R,
        k: u64,
    },
    Or64R {
        d: R,
        s: R,
    },
    And64I {
        d: R,
        k: u64,
    },
    And64R {
        d: R,
        s: R,
    },
    Lsh64I {
        d: R,
        k: u64,
    },
    Lsh64R {
        d: R,
        s: R,
    },
    Rsh64I {
        d: R,
        k: u64,
    },
    Rsh64R {
        d: R,
        s: R,
    },
    Arsh64I {
        d: R,
        k: u64,
    },
    Arsh64R {
        d: R,
        s: R,
    },
    Xor64I {
        d: R,
        k: u64,
    },
    Xor64R {
        d: R,
        s: R,
    },
    Mov64I {
        d: R,
        k: u64,
    },
    Mov64R {
        d: R,
        s: R,
    },
    /// 64-bit sign-extending move from `bits` (8, 16, 32).
    MovSx64 {
        d: R,
        s: R,
        bits: u8,
    },
    Neg64 {
        d: R,
    },

    Add32I {
        d: R,
        k: u32,
    },
    Add32R {
        d: R,
        s: R,
    },
    Sub32I {
        d: R,
        k: u32,
    },
    Sub32R {
        d: R,
        s: R,
    },
    Mul32I {
        d: R,
        k: u32,
    },
    Mul32R {
        d: R,
        s: R,
    },
    Div32I {
        d: R,
        k: u32,
    },
    Div32R {
        d: R,
        s: R,
    },
    SDiv32I {
        d: R,
        k: u32,
    },
    SDiv32R {
        d: R,
        s: R,
    },
    Mod32I {
        d: R,
        k: u32,
    },
    Mod32R {
        d: R,
        s: R,
    },
    SMod32I {
        d: R,
        k: u32,
    },
    SMod32R {
        d: R,
        s: R,
    },
    Or32I {
        d: R,
        k: u32,
    },
    Or32R {
        d: R,
        s: R,
    },
    And32I {
        d: R,
        k: u32,
    },
    And32R {
        d: R,
        s: R,
    },
    Lsh32I {
        d: R,
        k: u32,
    },
    Lsh32R {
        d: R,
        s: R,
    },
    Rsh32I {
        d: R,
        k: u32,
    },
    Rsh32R {
        d: R,
        s: R,
    },
    Arsh32I {
        d: R,
        k: u32,
    },
    Arsh32R {
        d: R,
        s: R,
    },
    Xor32I {
        d: R,
        k: u32,
    },
    Xor32R {
        d: R,
        s: R,
    },
    Mov32I {
        d: R,
        k: u32,
    },
    Mov32R {
        d: R,
        s: R,
    },
    /// 32-bit sign-extending move from `bits` (8, 16); the result is zero-extended.
    MovSx32 {
        d: R,
        s: R,
        bits: u8,
    },
    Neg32 {
        d: R,
    },

    /// Byte-order conversion.
    Endian {
        d: R,
        op: EndianOp,
        bits: u8,
    },
    /// `lddw` after map/function references are resolved to addresses.
    LdImm64 {
        d: R,
        k: u64,
    },

    /// Unconditional jump.
    Ja {
        t: u32,
    },
    /// Conditional jump, 32-bit compare with an immediate.
    Jmp32I {
        d: R,
        cond: JmpCond,
        k: u32,
        t: u32,
    },
    /// Conditional jump, 32-bit compare with a register.
    Jmp32R {
        d: R,
        s: R,
        cond: JmpCond,
        t: u32,
    },
    // Every 64-bit condition has its own variants, so a compare-and-branch is one dispatch.
    JeqI {
        d: R,
        t: u32,
        k: u64,
    },
    JeqR {
        d: R,
        s: R,
        t: u32,
    },
    JneI {
        d: R,
        t: u32,
        k: u64,
    },
    JneR {
        d: R,
        s: R,
        t: u32,
    },
    JgtI {
        d: R,
        t: u32,
        k: u64,
    },
    JgtR {
        d: R,
        s: R,
        t: u32,
    },
    JgeI {
        d: R,
        t: u32,
        k: u64,
    },
    JgeR {
        d: R,
        s: R,
        t: u32,
    },
    JltI {
        d: R,
        t: u32,
        k: u64,
    },
    JltR {
        d: R,
        s: R,
        t: u32,
    },
    JleI {
        d: R,
        t: u32,
        k: u64,
    },
    JleR {
        d: R,
        s: R,
        t: u32,
    },
    JsgtI {
        d: R,
        t: u32,
        k: u64,
    },
    JsgtR {
        d: R,
        s: R,
        t: u32,
    },
    JsgeI {
        d: R,
        t: u32,
        k: u64,
    },
    JsgeR {
        d: R,
        s: R,
        t: u32,
    },
    JsltI {
        d: R,
        t: u32,
        k: u64,
    },
    JsltR {
        d: R,
        s: R,
        t: u32,
    },
    JsleI {
        d: R,
        t: u32,
        k: u64,
    },
    JsleR {
        d: R,
        s: R,
        t: u32,
    },
    JsetI {
        d: R,
        t: u32,
        k: u64,
    },
    JsetR {
        d: R,
        s: R,
        t: u32,
    },
    // Superinstructions: two adjacent instructions in one op, formed by [`fuse`] when the second
    // is not a jump target. They run as the pair would, and count as two instructions.
    /// `dst += k; if dst < b goto t` (64-bit; `k` and `b` sign-extended): the loop-closing idiom.
    AddJltI {
        d: R,
        b: i32,
        k: i32,
        t: u32,
    },
    /// `dst += k; if dst != b goto t`.
    AddJneI {
        d: R,
        b: i32,
        k: i32,
        t: u32,
    },
    /// `dst += k; if dst < src goto t`.
    AddJltR {
        d: R,
        s: R,
        k: i32,
        t: u32,
    },
    /// `dst += k; if dst > src goto t`.
    AddJgtR {
        d: R,
        s: R,
        k: i32,
        t: u32,
    },
    /// `dst += k; if dst != src goto t`.
    AddJneR {
        d: R,
        s: R,
        k: i32,
        t: u32,
    },
    /// `ldxdw d, [s+off]; ldxdw d2, [s+off2]` (`d != s`): adjacent fields, a pair of slots.
    LdxDW2 {
        d: R,
        s: R,
        d2: R,
        off: i16,
        off2: i16,
    },
    /// `stxdw [d+off], s; stxdw [d+off2], s2`: e.g. the two halves of a swap.
    StxDW2 {
        d: R,
        s: R,
        s2: R,
        off: i16,
        off2: i16,
    },
    /// `dst = a; dst += b` (64-bit, `b != dst`): a three-address add, e.g. `base + index`.
    MovAdd64R {
        d: R,
        a: R,
        b: R,
    },
    /// `dst = a; dst += k` (64-bit): e.g. a stack slot address `r10 - 8`.
    MovAdd64I {
        d: R,
        a: R,
        k: i32,
    },

    LdxB {
        d: R,
        s: R,
        off: i16,
    },
    LdxH {
        d: R,
        s: R,
        off: i16,
    },
    LdxW {
        d: R,
        s: R,
        off: i16,
    },
    LdxDW {
        d: R,
        s: R,
        off: i16,
    },
    /// Sign-extending load of `size` bytes (1, 2, 4).
    LdxSx {
        d: R,
        s: R,
        size: u8,
        off: i16,
    },
    StB {
        d: R,
        off: i16,
        k: u64,
    },
    StH {
        d: R,
        off: i16,
        k: u64,
    },
    StW {
        d: R,
        off: i16,
        k: u64,
    },
    StDW {
        d: R,
        off: i16,
        k: u64,
    },
    StxB {
        d: R,
        s: R,
        off: i16,
    },
    StxH {
        d: R,
        s: R,
        off: i16,
    },
    StxW {
        d: R,
        s: R,
        off: i16,
    },
    StxDW {
        d: R,
        s: R,
        off: i16,
    },
    /// Atomic read-modify-write.
    Atomic {
        d: R,
        s: R,
        size: u8,
        op: AtomicOp,
        fetch: bool,
        off: i16,
    },
    /// Legacy packet load (`BPF_ABS` when `s` is `None`).
    LdPkt {
        size: u8,
        ind: Option<R>,
        k: i32,
    },

    /// Helper call by number.
    Call {
        id: i32,
    },
    /// bpf-to-bpf call to decoded index `t`.
    CallLocal {
        t: u32,
    },
    /// Helper call by the number held in a register.
    Callx {
        d: R,
    },
    /// Return from the current frame.
    Exit,
    /// Past the last instruction.
    FellOff,
}

/// A decoded program.
#[derive(Clone, Debug)]
pub struct Decoded {
    /// The ops, plus a final `FellOff` (shared, so the run loop holds it apart from the VM).
    /// One op per instruction: the traced loop runs these.
    pub ops: std::rc::Rc<[Op]>,
    /// The same ops with adjacent pairs fused into superinstructions by [`fuse`]. The second op
    /// of a pair stays in place (a jump may still land on it), so indices and `pcs` are shared
    /// with `ops`. The untraced loop runs these.
    pub fast: std::rc::Rc<[Op]>,
    /// Slot pc of each op (the `FellOff` entry gets the total slot count).
    pub pcs: Vec<usize>,
}

fn reg(r: Reg) -> R {
    r.num() & 0x0f
}

fn size_bytes(s: Size) -> u8 {
    s.bytes() as u8
}

/// Decodes `prog` for execution. Fails on what a loader would refuse structurally: jumps into
/// the middle of `lddw` or outside the program, writes to `r10`, kfunc calls and BTF ids.
pub fn decode(prog: &Program) -> Result<Decoded, RuntimeError> {
    let slots = prog.slots();
    let pcs = &slots.pcs;
    let total = pcs[prog.insns.len()];
    let n = prog.insns.len();
    let err = |i: usize, msg: String| RuntimeError {
        kind: ErrorKind::Invalid(msg),
        pc: Some(pcs[i]),
        index: Some(i),
        location: prog.location(i),
    };
    let target = |i: usize, rel: i64| -> Result<u32, RuntimeError> {
        slots.target(i, rel).map(|t| t as u32).map_err(|msg| err(i, msg))
    };

    let mut ops = Vec::with_capacity(n + 1);
    for (i, insn) in prog.insns.iter().enumerate() {
        if insn.written_reg() == Some(Reg::R10) {
            return Err(err(i, "frame pointer is read only".into()));
        }
        let op = match *insn {
            Insn::Bin { width, op, dst, src } => bin(width, op, reg(dst), src),
            Insn::Neg { width: Width::W64, dst } => Op::Neg64 { d: reg(dst) },
            Insn::Neg { width: Width::W32, dst } => Op::Neg32 { d: reg(dst) },
            Insn::Endian { op, bits, dst } => Op::Endian { d: reg(dst), op, bits: bits as u8 },
            Insn::Ja { off, .. } => Op::Ja { t: target(i, off as i64)? },
            Insn::Jmp { width, cond, dst, src, off } => {
                let t = target(i, off as i64)?;
                let d = reg(dst);
                match (width, src) {
                    (Width::W64, src) => jmp64(cond, d, src, t),
                    (Width::W32, Operand::Imm(k)) => Op::Jmp32I { cond, d, k: k as u32, t },
                    (Width::W32, Operand::Reg(s)) => Op::Jmp32R { cond, d, s: reg(s), t },
                }
            }
            Insn::Call(CallTarget::Helper(id)) => Op::Call { id },
            Insn::Call(CallTarget::Local(rel)) => Op::CallLocal { t: target(i, rel as i64)? },
            Insn::Call(CallTarget::Kfunc { btf_id, .. }) => {
                return Err(err(i, format!("kernel function calls (kfunc btf_id {btf_id}) need the kernel backend")))
            }
            Insn::Callx { dst } => Op::Callx { d: reg(dst) },
            Insn::Exit => Op::Exit,
            Insn::LoadImm64 { dst, src, imm, next_imm } => {
                let k = match src {
                    ImmSrc::Imm => Insn::imm64(imm, next_imm),
                    ImmSrc::MapFd | ImmSrc::MapIdx => {
                        // Without a kernel there are no file descriptors: a map "fd" is the
                        // index of the declared map, as with `BPF_PSEUDO_MAP_IDX`.
                        let idx =
                            map_index(prog, imm).ok_or_else(|| err(i, format!("map index {imm} is not declared")))?;
                        MAP_PTR_BASE + idx as u64 * MAP_PTR_STRIDE
                    }
                    ImmSrc::MapValue | ImmSrc::MapIdxValue => {
                        let idx =
                            map_index(prog, imm).ok_or_else(|| err(i, format!("map index {imm} is not declared")))?;
                        MAP_VALUE_BASE + idx as u64 * MAP_VALUE_STRIDE + next_imm as u32 as u64
                    }
                    ImmSrc::Func => CODE_BASE + 8 * target(i, imm as i64)? as u64,
                    ImmSrc::BtfId => return Err(err(i, "BTF ids of kernel variables need the kernel backend".into())),
                };
                Op::LdImm64 { d: reg(dst), k }
            }
            Insn::Load { size, signed: false, dst, src, off } => {
                let (d, s) = (reg(dst), reg(src));
                match size {
                    Size::B => Op::LdxB { d, s, off },
                    Size::H => Op::LdxH { d, s, off },
                    Size::W => Op::LdxW { d, s, off },
                    Size::DW => Op::LdxDW { d, s, off },
                }
            }
            Insn::Load { size, signed: true, dst, src, off } => {
                Op::LdxSx { d: reg(dst), s: reg(src), off, size: size_bytes(size) }
            }
            Insn::Store { size, dst, off, src: Operand::Imm(k) } => {
                let (d, k) = (reg(dst), k as i64 as u64);
                match size {
                    Size::B => Op::StB { d, off, k },
                    Size::H => Op::StH { d, off, k },
                    Size::W => Op::StW { d, off, k },
                    Size::DW => Op::StDW { d, off, k },
                }
            }
            Insn::Store { size, dst, off, src: Operand::Reg(s) } => {
                let (d, s) = (reg(dst), reg(s));
                match size {
                    Size::B => Op::StxB { d, s, off },
                    Size::H => Op::StxH { d, s, off },
                    Size::W => Op::StxW { d, s, off },
                    Size::DW => Op::StxDW { d, s, off },
                }
            }
            Insn::Atomic { size, op, fetch, dst, src, off } => {
                Op::Atomic { size: size_bytes(size), op, fetch, d: reg(dst), s: reg(src), off }
            }
            Insn::LegacyLoad { mode, size, src, imm } => Op::LdPkt {
                size: size_bytes(size),
                ind: if mode == LegacyMode::Ind { Some(reg(src)) } else { None },
                k: imm,
            },
        };
        ops.push(op);
    }
    ops.push(Op::FellOff);
    let mut op_pcs: Vec<usize> = pcs[..n].to_vec();
    op_pcs.push(total);
    let fast = fuse(&ops);
    // The run loop fetches without an index check; this is what makes that sound, checked once
    // per program rather than on every run.
    if !pc_stays_in(&ops) || !pc_stays_in(&fast) {
        return Err(RuntimeError::new(ErrorKind::Invalid("decoded program breaks the run loop's invariant".into())));
    }
    Ok(Decoded { ops: ops.into(), fast: fast.into(), pcs: op_pcs })
}

/// Forms superinstructions: wherever ops `i` and `i + 1` make a fusable pair, op `i` becomes one
/// op that does both and continues at `i + 2` (or its jump target). Op `i + 1` stays as it was,
/// so a jump to it still runs it alone; every position is considered independently, so this is
/// sound whatever the jump targets. A fused pair reports a fault at the instruction that made it
/// (the run loop knows which half failed), and the budget (charged at jumps from the index
/// distance) still counts both instructions.
pub fn fuse(ops: &[Op]) -> Vec<Op> {
    let mut out = ops.to_vec();
    // The final `FellOff` is never the second of a pair: falling into it must stay an error.
    for i in 0..ops.len().saturating_sub(2) {
        if let Some(op) = fuse_pair(ops[i], ops[i + 1]) {
            out[i] = op;
        }
    }
    out
}

/// Whether the run loop's index stays within `ops` whatever the program does, which lets the
/// loop fetch without an index check: `ops` is non-empty and ends with `FellOff` (which ends the
/// run, so nothing falls through past it); every jump and call target is an index of `ops`;
/// a superinstruction (which continues two ops on) is never at the last two positions; and a
/// `CallLocal` (whose return lands on the next op) is not last. [`decode`] and [`fuse`] make
/// every program so; the loop checks it once per run rather than trust that.
pub fn pc_stays_in(ops: &[Op]) -> bool {
    let n = ops.len();
    if ops.last() != Some(&Op::FellOff) {
        return false;
    }
    ops.iter().enumerate().all(|(i, op)| {
        let target_ok = |t: u32| (t as usize) < n;
        match *op {
            Op::Ja { t }
            | Op::Jmp32I { t, .. }
            | Op::Jmp32R { t, .. }
            | Op::JeqI { t, .. }
            | Op::JeqR { t, .. }
            | Op::JneI { t, .. }
            | Op::JneR { t, .. }
            | Op::JgtI { t, .. }
            | Op::JgtR { t, .. }
            | Op::JgeI { t, .. }
            | Op::JgeR { t, .. }
            | Op::JltI { t, .. }
            | Op::JltR { t, .. }
            | Op::JleI { t, .. }
            | Op::JleR { t, .. }
            | Op::JsgtI { t, .. }
            | Op::JsgtR { t, .. }
            | Op::JsgeI { t, .. }
            | Op::JsgeR { t, .. }
            | Op::JsltI { t, .. }
            | Op::JsltR { t, .. }
            | Op::JsleI { t, .. }
            | Op::JsleR { t, .. }
            | Op::JsetI { t, .. }
            | Op::JsetR { t, .. } => target_ok(t),
            Op::CallLocal { t } => target_ok(t) && i + 1 < n,
            Op::AddJltI { t, .. }
            | Op::AddJneI { t, .. }
            | Op::AddJltR { t, .. }
            | Op::AddJgtR { t, .. }
            | Op::AddJneR { t, .. } => target_ok(t) && i + 2 < n,
            Op::LdxDW2 { .. } | Op::StxDW2 { .. } | Op::MovAdd64R { .. } | Op::MovAdd64I { .. } => i + 2 < n,
            _ => true,
        }
    })
}

/// The 64-bit immediate added by `op` when it is `dst += k` / `dst -= k` with `k` an `i32`.
fn add_imm(op: Op) -> Option<(R, i32)> {
    match op {
        Op::Add64I { d, k } => Some((d, i32::try_from(k as i64).ok()?)),
        Op::Sub64I { d, k } => Some((d, i32::try_from((k as i64).checked_neg()?).ok()?)),
        _ => None,
    }
}

fn fuse_pair(first: Op, second: Op) -> Option<Op> {
    if let Some((d, k)) = add_imm(first) {
        // Compare immediates are sign-extended `i32`s, so they fit back.
        let b = |v: u64| i32::try_from(v as i64).ok();
        return match second {
            Op::JltI { d: d2, k: v, t } if d2 == d => Some(Op::AddJltI { d, k, b: b(v)?, t }),
            Op::JneI { d: d2, k: v, t } if d2 == d => Some(Op::AddJneI { d, k, b: b(v)?, t }),
            Op::JltR { d: d2, s, t } if d2 == d => Some(Op::AddJltR { d, s, k, t }),
            Op::JgtR { d: d2, s, t } if d2 == d => Some(Op::AddJgtR { d, s, k, t }),
            Op::JneR { d: d2, s, t } if d2 == d => Some(Op::AddJneR { d, s, k, t }),
            _ => None,
        };
    }
    match (first, second) {
        // The first load must leave the base register alone for the second to use it.
        (Op::LdxDW { d, s, off }, Op::LdxDW { d: d2, s: s2, off: off2 }) if s2 == s && d != s => {
            return Some(Op::LdxDW2 { d, s, d2, off, off2 })
        }
        (Op::StxDW { d, s, off }, Op::StxDW { d: d2, s: s2, off: off2 }) if d2 == d => {
            return Some(Op::StxDW2 { d, s, s2, off, off2 })
        }
        _ => {}
    }
    if let Op::Mov64R { d, s: a } = first {
        if let Op::Add64R { d: d2, s: b } = second {
            // `mov d, a; add d, d` doubles `a`: not an add of two sources.
            return (d2 == d && b != d).then_some(Op::MovAdd64R { d, a, b });
        }
        let (d2, k) = add_imm(second)?;
        return (d2 == d).then_some(Op::MovAdd64I { d, a, k });
    }
    None
}

fn jmp64(cond: JmpCond, d: R, src: Operand, t: u32) -> Op {
    match src {
        Operand::Imm(k) => {
            let k = k as i64 as u64;
            match cond {
                JmpCond::Eq => Op::JeqI { d, k, t },
                JmpCond::Ne => Op::JneI { d, k, t },
                JmpCond::Gt => Op::JgtI { d, k, t },
                JmpCond::Ge => Op::JgeI { d, k, t },
                JmpCond::Lt => Op::JltI { d, k, t },
                JmpCond::Le => Op::JleI { d, k, t },
                JmpCond::Sgt => Op::JsgtI { d, k, t },
                JmpCond::Sge => Op::JsgeI { d, k, t },
                JmpCond::Slt => Op::JsltI { d, k, t },
                JmpCond::Sle => Op::JsleI { d, k, t },
                JmpCond::Set => Op::JsetI { d, k, t },
            }
        }
        Operand::Reg(s) => {
            let s = reg(s);
            match cond {
                JmpCond::Eq => Op::JeqR { d, s, t },
                JmpCond::Ne => Op::JneR { d, s, t },
                JmpCond::Gt => Op::JgtR { d, s, t },
                JmpCond::Ge => Op::JgeR { d, s, t },
                JmpCond::Lt => Op::JltR { d, s, t },
                JmpCond::Le => Op::JleR { d, s, t },
                JmpCond::Sgt => Op::JsgtR { d, s, t },
                JmpCond::Sge => Op::JsgeR { d, s, t },
                JmpCond::Slt => Op::JsltR { d, s, t },
                JmpCond::Sle => Op::JsleR { d, s, t },
                JmpCond::Set => Op::JsetR { d, s, t },
            }
        }
    }
}

fn map_index(prog: &Program, imm: i32) -> Option<usize> {
    usize::try_from(imm).ok().filter(|&i| i < prog.maps.len())
}

fn bin(width: Width, op: BinOp, d: R, src: Operand) -> Op {
    use BinOp::*;
    match (width, src) {
        (Width::W64, Operand::Imm(k)) => {
            let k = k as i64 as u64;
            match op {
                Add => Op::Add64I { d, k },
                Sub => Op::Sub64I { d, k },
                Mul => Op::Mul64I { d, k },
                Div => Op::Div64I { d, k },
                SDiv => Op::SDiv64I { d, k },
                Mod => Op::Mod64I { d, k },
                SMod => Op::SMod64I { d, k },
                Or => Op::Or64I { d, k },
                And => Op::And64I { d, k },
                Lsh => Op::Lsh64I { d, k },
                Rsh => Op::Rsh64I { d, k },
                Arsh => Op::Arsh64I { d, k },
                Xor => Op::Xor64I { d, k },
                // movsx with an immediate is not encodable; treat it as a plain move of the
                // sign-extended immediate, which is what extension of a constant means.
                Mov | MovSx8 | MovSx16 | MovSx32 => Op::Mov64I { d, k },
            }
        }
        (Width::W64, Operand::Reg(s)) => {
            let s = reg(s);
            match op {
                Add => Op::Add64R { d, s },
                Sub => Op::Sub64R { d, s },
                Mul => Op::Mul64R { d, s },
                Div => Op::Div64R { d, s },
                SDiv => Op::SDiv64R { d, s },
                Mod => Op::Mod64R { d, s },
                SMod => Op::SMod64R { d, s },
                Or => Op::Or64R { d, s },
                And => Op::And64R { d, s },
                Lsh => Op::Lsh64R { d, s },
                Rsh => Op::Rsh64R { d, s },
                Arsh => Op::Arsh64R { d, s },
                Xor => Op::Xor64R { d, s },
                Mov => Op::Mov64R { d, s },
                MovSx8 => Op::MovSx64 { d, s, bits: 8 },
                MovSx16 => Op::MovSx64 { d, s, bits: 16 },
                MovSx32 => Op::MovSx64 { d, s, bits: 32 },
            }
        }
        (Width::W32, Operand::Imm(k)) => {
            let k = k as u32;
            match op {
                Add => Op::Add32I { d, k },
                Sub => Op::Sub32I { d, k },
                Mul => Op::Mul32I { d, k },
                Div => Op::Div32I { d, k },
                SDiv => Op::SDiv32I { d, k },
                Mod => Op::Mod32I { d, k },
                SMod => Op::SMod32I { d, k },
                Or => Op::Or32I { d, k },
                And => Op::And32I { d, k },
                Lsh => Op::Lsh32I { d, k },
                Rsh => Op::Rsh32I { d, k },
                Arsh => Op::Arsh32I { d, k },
                Xor => Op::Xor32I { d, k },
                Mov | MovSx8 | MovSx16 | MovSx32 => Op::Mov32I { d, k },
            }
        }
        (Width::W32, Operand::Reg(s)) => {
            let s = reg(s);
            match op {
                Add => Op::Add32R { d, s },
                Sub => Op::Sub32R { d, s },
                Mul => Op::Mul32R { d, s },
                Div => Op::Div32R { d, s },
                SDiv => Op::SDiv32R { d, s },
                Mod => Op::Mod32R { d, s },
                SMod => Op::SMod32R { d, s },
                Or => Op::Or32R { d, s },
                And => Op::And32R { d, s },
                Lsh => Op::Lsh32R { d, s },
                Rsh => Op::Rsh32R { d, s },
                Arsh => Op::Arsh32R { d, s },
                Xor => Op::Xor32R { d, s },
                Mov => Op::Mov32R { d, s },
                MovSx8 => Op::MovSx32 { d, s, bits: 8 },
                MovSx16 => Op::MovSx32 { d, s, bits: 16 },
                // ALU32 movsx from 32 bits is a plain 32-bit move.
                MovSx32 => Op::Mov32R { d, s },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_is_compact() {
        println!("size_of::<Op>() = {}", std::mem::size_of::<Op>());
        assert!(std::mem::size_of::<Op>() <= 16, "{}", std::mem::size_of::<Op>());
    }

    #[test]
    fn fusion_forms_only_pairs_with_the_same_meaning() {
        let add1 = Op::Add64I { d: 1, k: 1 };
        let jlt = Op::JltI { d: 1, k: 10, t: 0 };
        assert_eq!(fuse_pair(add1, jlt), Some(Op::AddJltI { d: 1, k: 1, b: 10, t: 0 }));
        // Different registers, or a compare bound beyond i32: no fusion.
        assert_eq!(fuse_pair(add1, Op::JltI { d: 2, k: 10, t: 0 }), None);
        assert_eq!(fuse_pair(Op::Add64I { d: 1, k: 1 << 40 }, jlt), None);
        // `sub k` is `add -k`, except for i32::MIN whose negation does not fit.
        let sub = |k: i32| Op::Sub64I { d: 1, k: k as i64 as u64 };
        assert_eq!(fuse_pair(sub(3), jlt), Some(Op::AddJltI { d: 1, k: -3, b: 10, t: 0 }));
        assert_eq!(fuse_pair(sub(i32::MIN), jlt), None);
        // `mov d, a; add d, d` is `2 * a`, not `a + d`.
        let mov = Op::Mov64R { d: 0, s: 1 };
        assert_eq!(fuse_pair(mov, Op::Add64R { d: 0, s: 2 }), Some(Op::MovAdd64R { d: 0, a: 1, b: 2 }));
        assert_eq!(fuse_pair(mov, Op::Add64R { d: 0, s: 0 }), None);
        assert_eq!(fuse_pair(mov, Op::Add64R { d: 3, s: 2 }), None);
        // Loads from one base pair up unless the first overwrites the base.
        let ld = |d, off| Op::LdxDW { d, s: 1, off };
        assert_eq!(fuse_pair(ld(3, 0), ld(4, 8)), Some(Op::LdxDW2 { d: 3, s: 1, d2: 4, off: 0, off2: 8 }));
        assert_eq!(fuse_pair(ld(1, 0), ld(4, 8)), None);
        // The op after a pair keeps its own form, and the final `FellOff` is never absorbed.
        let fused = fuse(&[add1, jlt, Op::Exit, Op::FellOff]);
        assert_eq!(fused[1], jlt);
        assert_eq!(fuse(&[Op::Add64I { d: 1, k: 1 }, Op::FellOff]).len(), 2);
    }

    #[test]
    fn the_run_loop_invariant_holds_for_decoded_programs_and_catches_breaks() {
        let add1 = Op::Add64I { d: 1, k: 1 };
        let jlt = Op::JltI { d: 1, k: 10, t: 0 };
        let ops = [add1, jlt, Op::Exit, Op::FellOff];
        assert!(pc_stays_in(&ops));
        assert!(pc_stays_in(&fuse(&ops)));
        // No final `FellOff`, a target past the end, a pair reaching past the end.
        assert!(!pc_stays_in(&[add1, Op::Exit]));
        assert!(!pc_stays_in(&[]));
        assert!(!pc_stays_in(&[Op::Ja { t: 2 }, Op::FellOff]));
        assert!(!pc_stays_in(&[Op::AddJltI { d: 1, k: 1, b: 3, t: 0 }, Op::FellOff]));
        assert!(!pc_stays_in(&[Op::CallLocal { t: 0 }, Op::FellOff][..1]));
    }
}
