//! Conditional jumps between two scalars: deciding the outcome when the values allow only one
//! (`is_scalar_branch_taken`) and narrowing both operands on an edge (`reg_set_min_max` with
//! `regs_refine_cond_op`).

use super::ScalarValue;
use crate::isa::{JmpCond, Width};
use crate::verifier::tnum::Tnum;

/// A relation one edge establishes: a jump condition, or the negation of `Set` (the kernel's
/// `BPF_JSET | BPF_X` in `rev_opcode`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Rel {
    Cond(JmpCond),
    NotSet,
}

/// The relation that holds on the fall-through edge (`rev_opcode`).
fn negated(cond: JmpCond) -> Rel {
    cond.negated().map_or(Rel::NotSet, Rel::Cond)
}

/// The views a comparison at `width` reads.
struct View {
    t: Tnum,
    umin: u64,
    umax: u64,
    smin: i64,
    smax: i64,
}

impl ScalarValue {
    fn view(&self, w32: bool) -> View {
        if w32 {
            View {
                t: self.var_off.subreg(),
                umin: self.u32_min as u64,
                umax: self.u32_max as u64,
                smin: self.s32_min as i64,
                smax: self.s32_max as i64,
            }
        } else {
            View { t: self.var_off, umin: self.umin, umax: self.umax, smin: self.smin, smax: self.smax }
        }
    }

    /// The constant a comparison at `width` sees (`is_reg_const` / `reg_const_value`).
    fn const_at(&self, w32: bool) -> Option<u64> {
        if w32 {
            self.const_value32().map(u64::from)
        } else {
            self.const_value()
        }
    }

    /// Whether `self cond other` at `width` is always true (`Some(true)`), always false
    /// (`Some(false)`), or either (`None`) (`is_scalar_branch_taken`).
    pub fn branch_taken(&self, cond: JmpCond, width: Width, other: &ScalarValue) -> Option<bool> {
        let w32 = width == Width::W32;
        let (a, b) = (self.view(w32), other.view(w32));
        // Disjoint 32-bit ranges also settle a 64-bit equality.
        let disjoint32 = !w32
            && (self.u32_min > other.u32_max
                || self.u32_max < other.u32_min
                || self.s32_min > other.s32_max
                || self.s32_max < other.s32_min);
        let never_equal = || {
            !a.t.overlaps(b.t) || a.umin > b.umax || a.umax < b.umin || a.smin > b.smax || a.smax < b.smin || disjoint32
        };
        match cond {
            JmpCond::Eq | JmpCond::Ne => {
                let eq = if a.t.is_const() && b.t.is_const() {
                    Some(a.t.value == b.t.value)
                } else if never_equal() {
                    Some(false)
                } else {
                    None
                };
                eq.map(|eq| eq == (cond == JmpCond::Eq))
            }
            JmpCond::Set => {
                let (t, c) = match (other.const_at(w32), self.const_at(w32)) {
                    (Some(c), _) => (a.t, c),
                    (None, Some(c)) => (b.t, c),
                    (None, None) => return None,
                };
                if t.value & c != 0 {
                    Some(true)
                } else if (t.value | t.mask) & c == 0 {
                    Some(false)
                } else {
                    None
                }
            }
            JmpCond::Gt => decide(a.umin > b.umax, a.umax <= b.umin),
            JmpCond::Ge => decide(a.umin >= b.umax, a.umax < b.umin),
            JmpCond::Lt => decide(a.umax < b.umin, a.umin >= b.umax),
            JmpCond::Le => decide(a.umax <= b.umin, a.umin > b.umax),
            JmpCond::Sgt => decide(a.smin > b.smax, a.smax <= b.smin),
            JmpCond::Sge => decide(a.smin >= b.smax, a.smax < b.smin),
            JmpCond::Slt => decide(a.smax < b.smin, a.smin >= b.smax),
            JmpCond::Sle => decide(a.smax <= b.smin, a.smin > b.smax),
        }
    }

    /// The two operands narrowed to the values for which `self cond other` is `taken`
    /// (`reg_set_min_max` / `regs_refine_cond_op`), or `None` when no pair of values can take
    /// that edge.
    ///
    /// As in the kernel: when [`branch_taken`](Self::branch_taken) settles the outcome the edge
    /// that is followed is not narrowed at all (`Some` of the operands unchanged) and the other
    /// is `None`; an undecided edge that the narrowing finds contradictory is still followed,
    /// with the ranges of the contradictory operand forgotten (`reg_bounds_sanity_check`).
    /// When both operands are the same register use [`refine_same`](Self::refine_same).
    pub fn refine(
        &self,
        cond: JmpCond,
        width: Width,
        other: &ScalarValue,
        taken: bool,
    ) -> Option<(ScalarValue, ScalarValue)> {
        if let Some(outcome) = self.branch_taken(cond, width, other) {
            return (outcome == taken).then_some((*self, *other));
        }
        let rel = if taken { Rel::Cond(cond) } else { negated(cond) };
        let (mut a, mut b) = (*self, *other);
        refine_cond_op(&mut a, &mut b, rel, width == Width::W32);
        a.sync_checked();
        b.sync_checked();
        Some((a, b))
    }
}

impl ScalarValue {
    /// `if rX cond rX`: the kernel refines the register against itself in place, so a strict
    /// comparison on the edge where it holds (an edge no value can take) moves both ends of
    /// the range inwards by one; the other conditions leave it as it was. `None` only when
    /// [`branch_taken`](Self::branch_taken) rules the edge out.
    pub fn refine_same(&self, cond: JmpCond, width: Width, taken: bool) -> Option<ScalarValue> {
        if let Some(outcome) = self.branch_taken(cond, width, self) {
            return (outcome == taken).then_some(*self);
        }
        let rel = if taken { Rel::Cond(cond) } else { negated(cond) };
        let mut v = *self;
        let w32 = width == Width::W32;
        match rel {
            Rel::Cond(JmpCond::Lt | JmpCond::Gt) if w32 => inward(&mut v.u32_min, &mut v.u32_max),
            Rel::Cond(JmpCond::Lt | JmpCond::Gt) => inward(&mut v.umin, &mut v.umax),
            Rel::Cond(JmpCond::Slt | JmpCond::Sgt) if w32 => inward(&mut v.s32_min, &mut v.s32_max),
            Rel::Cond(JmpCond::Slt | JmpCond::Sgt) => inward(&mut v.smin, &mut v.smax),
            _ => {}
        }
        // Synced as each operand (twice), then checked: a contradiction leaves the ranges
        // forgotten, not re-derived.
        v.sync();
        v.sync();
        if v.violates_invariants() {
            v.mark_unbounded();
        }
        Some(v)
    }
}

fn decide(always: bool, never: bool) -> Option<bool> {
    if always {
        Some(true)
    } else if never {
        Some(false)
    } else {
        None
    }
}

/// `regs_refine_cond_op`: narrows `r1` and `r2` so that `r1 rel r2` holds, without syncing.
fn refine_cond_op(r1: &mut ScalarValue, r2: &mut ScalarValue, rel: Rel, w32: bool) {
    use JmpCond::*;
    // `a > b` is `b < a`: only the less-than forms are written out.
    let (mut r1, mut r2, rel) = match rel {
        Rel::Cond(Gt) => (r2, r1, Rel::Cond(Lt)),
        Rel::Cond(Ge) => (r2, r1, Rel::Cond(Le)),
        Rel::Cond(Sgt) => (r2, r1, Rel::Cond(Slt)),
        Rel::Cond(Sge) => (r2, r1, Rel::Cond(Sle)),
        _ => (r1, r2, rel),
    };
    match rel {
        Rel::Cond(Eq) => {
            // Both become the intersection.
            if w32 {
                meet(&mut r1.u32_min, &mut r1.u32_max, &mut r2.u32_min, &mut r2.u32_max);
                meet(&mut r1.s32_min, &mut r1.s32_max, &mut r2.s32_min, &mut r2.s32_max);
                let t = r1.var_off.subreg().intersect(r2.var_off.subreg());
                r1.var_off = r1.var_off.with_subreg(t);
                r2.var_off = r2.var_off.with_subreg(t);
            } else {
                meet(&mut r1.umin, &mut r1.umax, &mut r2.umin, &mut r2.umax);
                meet(&mut r1.smin, &mut r1.smax, &mut r2.smin, &mut r2.smax);
                r1.var_off = r1.var_off.intersect(r2.var_off);
                r2.var_off = r1.var_off;
            }
        }
        Rel::Cond(Ne) | Rel::Cond(Set) | Rel::NotSet => {
            // Only a constant on one side teaches anything; put it in `r2`.
            if r2.const_at(w32).is_none() {
                std::mem::swap(&mut r1, &mut r2);
            }
            let Some(val) = r2.const_at(w32) else {
                return;
            };
            match rel {
                Rel::Cond(Ne) => exclude_edge(r1, val, w32),
                Rel::Cond(Set) => {
                    // Only a single tested bit is then known to be set.
                    if val.is_power_of_two() {
                        set_bits(r1, r1.var_off_at(w32).or(Tnum::constant(val)), w32);
                    }
                }
                _ => {
                    // Forget the ranges first, so a dead edge does not contradict itself.
                    r1.mark_unbounded();
                    set_bits(r1, r1.var_off_at(w32).and(Tnum::constant(!val)), w32);
                }
            }
        }
        Rel::Cond(c @ (Le | Lt | Sle | Slt)) => {
            // r1 <= r2 - gap: r1's maximum and r2's minimum move.
            let strict = matches!(c, Lt | Slt);
            match (matches!(c, Sle | Slt), w32) {
                (false, true) => order(&mut r1.u32_max, r1.u32_min, r2.u32_max, &mut r2.u32_min, strict),
                (false, false) => order(&mut r1.umax, r1.umin, r2.umax, &mut r2.umin, strict),
                (true, true) => order(&mut r1.s32_max, r1.s32_min, r2.s32_max, &mut r2.s32_min, strict),
                (true, false) => order(&mut r1.smax, r1.smin, r2.smax, &mut r2.smin, strict),
            }
        }
        Rel::Cond(Gt | Ge | Sgt | Sge) => unreachable!("flipped above"),
    }
}

impl ScalarValue {
    /// The tnum a comparison at `width` sees.
    fn var_off_at(&self, w32: bool) -> Tnum {
        if w32 {
            self.var_off.subreg()
        } else {
            self.var_off
        }
    }
}

/// Writes `t` as the tnum at the comparison's width.
fn set_bits(r: &mut ScalarValue, t: Tnum, w32: bool) {
    r.var_off = if w32 { r.var_off.with_subreg(t) } else { t };
}

/// `r != val`: a range that ends at `val` loses that end.
fn exclude_edge(r: &mut ScalarValue, val: u64, w32: bool) {
    if w32 {
        trim(&mut r.u32_min, &mut r.u32_max, val as u32);
        trim(&mut r.s32_min, &mut r.s32_max, val as i32);
    } else {
        trim(&mut r.umin, &mut r.umax, val);
        trim(&mut r.smin, &mut r.smax, val as i64);
    }
}

/// `a <= b` (`a < b` when `strict`) given `a`'s bounds and `b`'s: `a`'s maximum falls to `b`'s,
/// `b`'s minimum rises to `a`'s. Wrapping as the kernel's C does (that edge is never reached).
fn order<T: Bounded>(max1: &mut T, min1: T, max2: T, min2: &mut T, strict: bool) {
    let gap = if strict { T::ONE } else { T::ZERO };
    *max1 = (*max1).min(max2.wrapping_minus(gap));
    *min2 = min1.wrapping_plus(gap).max(*min2);
}

/// The four bound types, for the helpers shared by the 32- and 64-bit, signed and unsigned
/// views.
trait Bounded: Copy + Ord {
    const ZERO: Self;
    const ONE: Self;
    fn wrapping_plus(self, other: Self) -> Self;
    fn wrapping_minus(self, other: Self) -> Self;
}

macro_rules! bounded {
    ($($t:ty),*) => {$(
        impl Bounded for $t {
            const ZERO: Self = 0;
            const ONE: Self = 1;
            fn wrapping_plus(self, other: Self) -> Self {
                self.wrapping_add(other)
            }
            fn wrapping_minus(self, other: Self) -> Self {
                self.wrapping_sub(other)
            }
        }
    )*};
}
bounded!(u32, u64, i32, i64);

/// `x < x` applied to one range in place: both ends move inwards by one.
fn inward<T: Bounded>(lo: &mut T, hi: &mut T) {
    let (l, h) = (*lo, *hi);
    order(hi, l, h, lo, true);
}

/// Both ranges become their intersection.
fn meet<T: Bounded>(lo1: &mut T, hi1: &mut T, lo2: &mut T, hi2: &mut T) {
    *lo1 = (*lo1).max(*lo2);
    *hi1 = (*hi1).min(*hi2);
    *lo2 = *lo1;
    *hi2 = *hi1;
}

/// Moves `lo` up or `hi` down by one when it equals `v`.
fn trim<T: Bounded>(lo: &mut T, hi: &mut T, v: T) {
    if *lo == v {
        *lo = lo.wrapping_plus(T::ONE);
    }
    if *hi == v {
        *hi = hi.wrapping_minus(T::ONE);
    }
}
