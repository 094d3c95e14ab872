//! Counted loops whose accesses can be checked once, at the loop's entry.
//!
//! A loop qualifies when its body (the head to the back-edge) is ALU operations, loads and
//! stores with jumps that only go forwards (out of the loop, or to a later instruction of the
//! body: an `if` or a `switch` inside; where paths join, a register keeps only a value they
//! agree on), and whose back-edge
//! is `if i < N goto head` (or `<=`, 64-bit, `N` a positive immediate) on a counter the body
//! advances by a positive constant `c`. Every iteration then starts with `i` in `[i0, N)`
//! (`i0` its value at the entry) and never wraps, so each access whose address is affine in
//! `i` (`inv + i + k` or `inv + k`, `inv` a register the body never writes) touches only the
//! bytes between its first and its last iteration's. The guard the code generator emits
//! checks those two ends against the access's window, and the budget against the most
//! iterations there can be; when all holds, no check in the loop can fail, so an unchecked copy
//! of the body runs instead, with the same results, the same budget charges and no way to fault.
//! Anything else, or a failed guard, runs the checked loop: the outcome never depends on which
//! copy ran.

use crate::isa::{BinOp, ImmSrc, Insn, JmpCond, Operand, Reg, Size, Width};

/// Bodies longer than this are not analysed (compile time stays linear).
const MAX_BODY: usize = 64;

/// A register's value in the body, relative to the iteration's start: `inv + (i if counted) + k`
/// (64-bit, wrapping), where `inv` is a register the body never writes and `i` the counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Val {
    Unknown,
    Affine { inv: Option<Reg>, counted: bool, k: i64 },
}

impl Val {
    const fn constant(k: i64) -> Val {
        Val::Affine { inv: None, counted: false, k }
    }

    /// `self + other`, when still affine.
    fn add(self, other: Val) -> Val {
        let (Val::Affine { inv: a, counted: ca, k: ka }, Val::Affine { inv: b, counted: cb, k: kb }) = (self, other)
        else {
            return Val::Unknown;
        };
        if (a.is_some() && b.is_some()) || (ca && cb) {
            return Val::Unknown;
        }
        match ka.checked_add(kb) {
            Some(k) => Val::Affine { inv: a.or(b), counted: ca || cb, k },
            None => Val::Unknown,
        }
    }
}

/// An access of a [`CountedLoop`]: at an iteration starting with counter `i`, its address is
/// `inv + (i if counted) + k` (`k` includes the instruction's offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopAccess {
    /// The loop-invariant register in the address, if any.
    pub inv: Option<Reg>,
    /// Whether the address moves with the counter.
    pub counted: bool,
    /// The constant part, offset included (fits a 32-bit displacement).
    pub k: i32,
    /// Bytes accessed.
    pub size: Size,
    /// A store (else a load).
    pub write: bool,
}

impl LoopAccess {
    /// Whether the access is to the stack (its window is the stack's): through `r10`.
    pub fn stack(&self) -> bool {
        self.inv == Some(Reg::R10)
    }
}

/// A loop whose accesses a guard at its entry can check once (see the module's note).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CountedLoop {
    /// The first instruction of the body (the back-edge's target).
    pub head: usize,
    /// The back-edge: the body's last instruction.
    pub back: usize,
    /// The counter.
    pub counter: Reg,
    /// Iterations start with the counter below this (exclusive, positive).
    pub bound: i32,
    /// What the body adds to the counter each iteration (positive).
    pub step: i32,
    /// Per body instruction (head to back-edge), the counter minus its value at the
    /// iteration's start, when known there: how far an exit is into its iteration.
    pub counter_at: Vec<Option<i32>>,
    /// The body's loads and stores, one per instruction.
    pub accesses: Vec<LoopAccess>,
}

impl CountedLoop {
    /// Whether the unchecked copy can leave the budget alone until it exits: the step is a
    /// power of two and the counter is known at every exit, so the back-edges taken are
    /// `(counter - counter_at - i0) / step`.
    pub fn charge_at_exit(&self) -> bool {
        (self.step as u32).is_power_of_two() && self.counter_at.iter().all(Option::is_some)
    }
}

/// The counted loop closed by the conditional back-edge at `back` (jumping to `head`), if it
/// qualifies. `target(j)` is where instruction `j` jumps (None: not a jump, or out of range).
pub fn counted_loop(
    insns: &[Insn],
    head: usize,
    back: usize,
    target: impl Fn(usize) -> Option<usize>,
) -> Option<CountedLoop> {
    if head == 0 || back < head || back - head >= MAX_BODY {
        return None;
    }
    let Insn::Jmp { width: Width::W64, cond, dst: counter, src: Operand::Imm(n), .. } = insns[back] else {
        return None;
    };
    let bound = match cond {
        JmpCond::Lt => n,
        JmpCond::Le => n.checked_add(1)?,
        _ => return None,
    };
    if bound <= 0 {
        return None;
    }
    let body = &insns[head..back];
    let written = |r: Reg| body.iter().any(|insn| insn.written_reg() == Some(r));
    if !written(counter) {
        return None;
    }
    // At the iteration's start: the counter is `i`, unwritten registers are themselves, the
    // rest holds whatever the last iteration left.
    let mut vals = [Val::Unknown; 11];
    for (r, v) in vals.iter_mut().enumerate() {
        let Some(reg) = Reg::new(r as u8) else { continue };
        if reg == counter {
            *v = Val::Affine { inv: None, counted: true, k: 0 };
        } else if !written(reg) {
            *v = Val::Affine { inv: Some(reg), counted: false, k: 0 };
        }
    }
    let mut accesses = Vec::new();
    let access = |vals: &[Val; 11], base: Reg, off: i16, size: Size, write: bool| match vals[base.idx()] {
        Val::Affine { inv, counted, k } => {
            let k = i32::try_from(k.checked_add(off as i64)?).ok()?;
            Some(LoopAccess { inv, counted, k, size, write })
        }
        Val::Unknown => None,
    };
    let mut counter_at = Vec::with_capacity(body.len() + 1);
    // The states inner forward jumps bring to each body position (the back-edge's last), and
    // whether the instruction before falls through to the next.
    let mut incoming: Vec<Option<[Val; 11]>> = vec![None; body.len() + 1];
    let mut live = true;
    for (j, insn) in body.iter().enumerate() {
        // (Code no path in the loop reaches keeps the loop checked.)
        vals = arrive(vals, live, incoming[j].take())?;
        live = true;
        counter_at.push(counter_offset(vals[counter.idx()]));
        match *insn {
            Insn::Bin { width, op, dst, src } => {
                if matches!(op, BinOp::Div | BinOp::SDiv | BinOp::Mod | BinOp::SMod) {
                    return None;
                }
                let s = match src {
                    Operand::Imm(k) => Val::constant(k as i64),
                    Operand::Reg(s) => vals[s.idx()],
                };
                let d = vals[dst.idx()];
                vals[dst.idx()] = match (width, op) {
                    (Width::W64, BinOp::Mov) => s,
                    (Width::W64, BinOp::Add) => d.add(s),
                    (Width::W64, BinOp::Sub) => match s {
                        Val::Affine { inv: None, counted: false, k } => {
                            k.checked_neg().map_or(Val::Unknown, |k| d.add(Val::constant(k)))
                        }
                        _ => Val::Unknown,
                    },
                    _ => Val::Unknown,
                };
            }
            Insn::Neg { dst, .. } | Insn::Endian { dst, .. } => vals[dst.idx()] = Val::Unknown,
            Insn::LoadImm64 { dst, src: ImmSrc::Imm, .. } => vals[dst.idx()] = Val::Unknown,
            Insn::Load { size, dst, src, off, .. } => {
                accesses.push(access(&vals, src, off, size, false)?);
                vals[dst.idx()] = Val::Unknown;
            }
            Insn::Store { size, dst, off, .. } => accesses.push(access(&vals, dst, off, size, true)?),
            // Jumps go forwards: out of the loop, or to a later instruction of the body (the
            // back-edge included), whose state becomes what both ways agree on.
            Insn::Ja { .. } | Insn::Jmp { .. } => {
                let t = target(head + j).filter(|&t| t > head + j)?;
                if t <= back {
                    let slot = &mut incoming[t - head];
                    *slot = Some(slot.map_or(vals, |s| merge(&s, &vals)));
                }
                live = matches!(insn, Insn::Jmp { .. });
            }
            _ => return None,
        }
    }
    vals = arrive(vals, live, incoming[body.len()].take())?;
    // The back-edge sees the counter advanced by a positive constant.
    let step = counter_offset(vals[counter.idx()]).filter(|&k| k > 0)?;
    counter_at.push(Some(step));
    Some(CountedLoop { head, back, counter, bound, step, counter_at, accesses })
}

/// The state at a body position: the previous instruction's (when it falls through, `live`)
/// joined with what inner jumps brought (`came`); `None` when nothing reaches it.
fn arrive(vals: [Val; 11], live: bool, came: Option<[Val; 11]>) -> Option<[Val; 11]> {
    match (live, came) {
        (true, Some(came)) => Some(merge(&vals, &came)),
        (true, None) => Some(vals),
        (false, came) => came,
    }
}

/// The registers where two paths join: a value both agree on, else unknown.
fn merge(a: &[Val; 11], b: &[Val; 11]) -> [Val; 11] {
    std::array::from_fn(|r| if a[r] == b[r] { a[r] } else { Val::Unknown })
}

/// The counter's offset from its value at the iteration's start, if `v` is that.
fn counter_offset(v: Val) -> Option<i32> {
    match v {
        Val::Affine { inv: None, counted: true, k } => i32::try_from(k).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asm::{assemble, Syntax};

    fn find(src: &str) -> Option<CountedLoop> {
        let p = assemble("t", src, Some(Syntax::Llvm)).expect("assembles");
        let slots = p.slots();
        let target = |j: usize| p.insns[j].branch_offset().and_then(|off| slots.target(j, off).ok());
        let back = (0..p.insns.len()).find(|&j| target(j).is_some_and(|t| t <= j))?;
        counted_loop(&p.insns, target(back)?, back, target)
    }

    const COPY: &str = "r3 = 0\nloop:\nr4 = r1\nr4 += r3\nr5 = *(u8 *)(r4 + 0)\n*(u8 *)(r4 + 1024) = r5\nr3 += 1\nif r3 < 1024 goto loop\nexit\n";

    #[test]
    fn a_byte_copy_is_counted_with_both_accesses_affine() {
        let l = find(COPY).expect("counted");
        assert_eq!((l.head, l.back, l.counter, l.bound, l.step), (1, 6, Reg::new(3).expect("r3"), 1024, 1));
        assert_eq!(l.counter_at, [0, 0, 0, 0, 0, 1].map(Some));
        assert!(l.charge_at_exit());
        let a = |k, write| LoopAccess { inv: Some(Reg::R1), counted: true, k, size: Size::B, write };
        assert_eq!(l.accesses, vec![a(0, false), a(1024, true)]);
    }

    #[test]
    fn an_access_after_the_increment_sees_the_step() {
        let l =
            find("r3 = 0\nloop:\nr3 += 2\nr4 = r10\nr4 += r3\n*(u64 *)(r4 - 64) = 0\nif r3 <= 40 goto loop\nexit\n")
                .expect("counted");
        assert_eq!((l.bound, l.step), (41, 2));
        assert!(l.charge_at_exit());
        assert_eq!(
            l.accesses,
            vec![LoopAccess { inv: Some(Reg::R10), counted: true, k: -62, size: Size::DW, write: true }]
        );
        assert!(l.accesses[0].stack());
    }

    #[test]
    fn loops_that_do_not_qualify_are_left_alone() {
        // A pointer loaded in the body, a signed bound, a counter that does not advance, a jump
        // inside the body over the increment, a call, a division, a 32-bit counter.
        for src in [
            "r0 = 0\nloop:\nr4 = *(u64 *)(r1 + 0)\nr5 = *(u8 *)(r4 + 0)\nr3 += 1\nif r3 < 9 goto loop\nexit\n",
            "r0 = 0\nloop:\nr3 += 1\nif r3 s< 9 goto loop\nexit\n",
            "r0 = 0\nloop:\nr3 += 0\nif r3 < 9 goto loop\nexit\n",
            "r0 = 0\nloop:\nr3 -= 1\nif r3 < 9 goto loop\nexit\n",
            "r0 = 0\nloop:\nif r3 == 2 goto +1\nr3 += 1\nif r3 < 9 goto loop\nexit\n",
            "r0 = 0\nloop:\ncall 7\nr3 += 1\nif r3 < 9 goto loop\nexit\n",
            "r0 = 0\nloop:\nr0 /= r3\nr3 += 1\nif r3 < 9 goto loop\nexit\n",
            "r0 = 0\nloop:\nw3 += 1\nif r3 < 9 goto loop\nexit\n",
            "r0 = 0\nloop:\nr3 += 1\nif r3 < 0 goto loop\nexit\n",
        ] {
            assert_eq!(find(src), None, "{src}");
        }
    }

    #[test]
    fn an_if_inside_the_body_is_counted_where_both_ways_agree() {
        // A switch-like body: both ways reach the increment with the counter untouched.
        let src = "r0 = 0\nr3 = 0\nloop:\nr4 = r3\nr4 &= 1\nif r4 == 0 goto even\nr0 += 3\ngoto next\neven:\n\
                   r0 += 1\nnext:\nr5 = r1\nr5 += r3\nr6 = *(u8 *)(r5 + 0)\nr3 += 1\nif r3 < 9 goto loop\nexit\n";
        let l = find(src).expect("counted");
        assert_eq!(l.step, 1);
        assert_eq!(
            l.accesses,
            vec![LoopAccess { inv: Some(Reg::R1), counted: true, k: 0, size: Size::B, write: false }]
        );
        assert!(l.charge_at_exit());
        // Only one way advances the counter, or the address differs between the ways, or code
        // after an unconditional jump is never reached.
        for src in [
            "r0 = 0\nloop:\nif r0 == 2 goto skip\nr3 += 1\nskip:\nif r3 < 9 goto loop\nexit\n",
            "r0 = 0\nloop:\nr5 = r1\nif r0 == 2 goto read\nr5 = r10\nread:\nr6 = *(u8 *)(r5 + 0)\nr3 += 1\n\
             if r3 < 9 goto loop\nexit\n",
            "r0 = 0\nloop:\nr3 += 1\ngoto +1\nr0 += 1\nif r3 < 9 goto loop\nexit\n",
        ] {
            assert_eq!(find(src), None, "{src}");
        }
    }

    #[test]
    fn a_forward_exit_is_allowed() {
        let src = "r0 = 0\nloop:\nr5 = *(u8 *)(r1 + 0)\nif r5 != 0 goto out\nr1 += 1\nr3 += 1\nif r3 < 9 goto loop\nout:\nexit\n";
        // r1 moves in the body: its access is not affine in the counter.
        assert_eq!(find(src), None);
        let src = "r0 = 0\nloop:\nr4 = r1\nr4 += r3\nr5 = *(u8 *)(r4 + 0)\nif r5 != 0 goto out\nr3 += 1\nif r3 < 9 goto loop\nout:\nexit\n";
        assert_eq!(find(src).map(|l| l.accesses.len()), Some(1));
        // A step of 3 cannot be divided out with a shift: the copy charges at its back-edge.
        let src = src.replace("r3 += 1", "r3 += 3");
        assert!(!find(&src).expect("counted").charge_at_exit());
    }
}
