//! The whole abstract state at one instruction (the kernel's `struct bpf_verifier_state`): the
//! call frames, each with its registers and stack, and the references held (ring buffer records).
//! Also the two comparisons exploration needs: "already verified" (`states_equal`, for pruning)
//! and "exactly the same" (for infinite-loop detection).

use super::reg::{RegKind, RegState};
use super::scalar::ScalarValue;
use super::stack::{SlotType, Stack};
use crate::isa::Reg;

/// One function's frame (`struct bpf_func_state`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// `r0`–`r10`.
    pub regs: [RegState; Reg::COUNT],
    /// Its stack.
    pub stack: Stack,
    /// The call instruction that made this frame (slot index in the caller); 0 for the first.
    pub callsite: usize,
    /// The subprogram this frame runs (index into the subprogram list).
    pub subprog: usize,
    /// A callback's frame (`in_callback_fn`): the frames of its callers when it was entered, to
    /// widen against when it returns to its helper call (see `call::check_exit`).
    pub callback_entry: Option<std::sync::Arc<Vec<Frame>>>,
    /// Callback visits pushed from this frame's current helper call (`callback_depth`):
    /// `bpf_loop` stops asking for more once it reaches the loop count.
    pub callback_depth: u64,
}

impl Frame {
    /// A fresh frame number `frameno`: every register unwritten but `r10`.
    pub fn new(frameno: u8, callsite: usize, subprog: usize) -> Frame {
        let mut regs = [RegState::not_init(); Reg::COUNT];
        regs[10] = RegState::frame_pointer(frameno);
        Frame { regs, stack: Stack::default(), callsite, subprog, callback_entry: None, callback_depth: 0 }
    }
}

/// A reference the program must release before it exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// The reference id (`ref_obj_id` of the registers holding it).
    pub id: u32,
    /// The instruction that acquired it.
    pub insn: usize,
}

/// The whole state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VState {
    /// Call frames, outermost first.
    pub frames: Vec<Frame>,
    /// References held.
    pub refs: Vec<Reference>,
    /// Callback visits on the way to this state (`callback_unroll_depth`): states of different
    /// visits of one callback are not an infinite loop however alike.
    pub callback_unroll_depth: u32,
}

impl VState {
    /// The innermost frame.
    pub fn cur(&self) -> &Frame {
        self.frames.last().expect("a state has a frame")
    }

    /// The innermost frame, mutably.
    pub fn cur_mut(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("a state has a frame")
    }

    /// Index of the innermost frame (`curframe`).
    pub fn curframe(&self) -> usize {
        self.frames.len() - 1
    }

    /// Applies `f` to every register and spilled register of every frame
    /// (`bpf_for_each_reg_in_vstate`).
    pub fn for_each_reg(&mut self, mut f: impl FnMut(&mut RegState)) {
        for frame in &mut self.frames {
            frame.regs.iter_mut().for_each(&mut f);
            for slot in &mut frame.stack.slots {
                if slot.is_spill() {
                    f(&mut slot.spilled);
                }
            }
        }
    }
}

/// How strictly two states are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exactness {
    /// `cur` is covered by `old` (pruning).
    Within,
    /// The same (loop detection).
    Exact,
}

/// Old-to-current id correspondence (`struct bpf_idmap`).
#[derive(Default)]
struct IdMap(Vec<(u32, u32)>);

impl IdMap {
    /// `check_ids`: ids must correspond one to one, zero with zero.
    fn check(&mut self, old: u32, cur: u32) -> bool {
        if (old == 0) != (cur == 0) {
            return false;
        }
        if old == 0 {
            return true;
        }
        for &(o, c) in &self.0 {
            if o == old {
                return c == cur;
            }
            if c == cur {
                return false;
            }
        }
        self.0.push((old, cur));
        true
    }
}

fn within(old: &ScalarValue, cur: &ScalarValue) -> bool {
    cur.is_subset_of(old)
}

/// `regs_exact`: identical up to id renaming.
fn regs_exact(old: &RegState, cur: &RegState, ids: &mut IdMap) -> bool {
    let strip = |r: &RegState| RegState { id: 0, ref_id: 0, ..*r };
    strip(old) == strip(cur) && ids.check(old.id, cur.id) && ids.check(old.ref_id, cur.ref_id)
}

/// `regsafe`: every value `cur` may hold, `old` may hold too.
fn regsafe(old: &RegState, cur: &RegState, ids: &mut IdMap, exact: Exactness) -> bool {
    if old.kind == RegKind::NotInit {
        return exact == Exactness::Within || cur.kind == RegKind::NotInit;
    }
    if exact == Exactness::Exact {
        return regs_exact(old, cur, ids);
    }
    if old.kind != cur.kind || old.maybe_null != cur.maybe_null {
        return false;
    }
    match old.kind {
        RegKind::Scalar => within(&old.var, &cur.var),
        RegKind::MapValue | RegKind::MapKey | RegKind::RingbufMem | RegKind::Ctx => {
            old.off == cur.off
                && old.map == cur.map
                && old.mem_size == cur.mem_size
                && within(&old.var, &cur.var)
                && ids.check(old.id, cur.id)
                && ids.check(old.ref_id, cur.ref_id)
        }
        RegKind::Packet | RegKind::PacketMeta => {
            old.range <= cur.range && old.off == cur.off && ids.check(old.id, cur.id) && within(&old.var, &cur.var)
        }
        RegKind::Stack => regs_exact(old, cur, ids) && old.frame == cur.frame,
        _ => regs_exact(old, cur, ids),
    }
}

/// A scalar standing for a whole slot, for comparing a 64-bit spill with plain numbers
/// (`scalar_reg_for_stack`).
fn scalar_for_slot(slot: &super::stack::StackSlot) -> Option<RegState> {
    if slot.spill_size() == 8 && slot.spilled.kind == RegKind::Scalar {
        Some(slot.spilled)
    } else if slot.types.iter().all(|t| *t == SlotType::Misc) {
        Some(RegState::unknown())
    } else {
        None
    }
}

/// `stacksafe`.
fn stacksafe(old: &Stack, cur: &Stack, ids: &mut IdMap, exact: Exactness) -> bool {
    let mut i = 0;
    while i < old.allocated() {
        let (spi, k) = (i / 8, i % 8);
        let ot = old.slots[spi].types[k];
        let ct = cur.slots.get(spi).map(|s| s.types[k]);
        if exact == Exactness::Exact && ct != Some(ot) {
            return false;
        }
        if ot == SlotType::Invalid || (ot == SlotType::Misc && exact == Exactness::Within) {
            i += 1;
            continue;
        }
        let Some(ct) = ct else { return false };
        if let (Some(o), Some(c)) = (scalar_for_slot(&old.slots[spi]), scalar_for_slot(&cur.slots[spi])) {
            if !regsafe(&o, &c, ids, exact) {
                return false;
            }
            i = (spi + 1) * 8;
            continue;
        }
        if ot == SlotType::Misc && ct == SlotType::Zero {
            i += 1;
            continue;
        }
        if ot != ct {
            return false;
        }
        if k == 7 && ot == SlotType::Spill && !regsafe(&old.slots[spi].spilled, &cur.slots[spi].spilled, ids, exact) {
            return false;
        }
        i += 1;
    }
    true
}

/// `states_equal`: `cur` needs no further exploration once `old` was verified (`Within`), or is
/// the same state (`Exact`). `live(frame)` gives the registers live in that frame (bit per
/// register); registers not live are not compared.
pub fn states_equal(old: &VState, cur: &VState, live: impl Fn(usize) -> u16, exact: Exactness) -> bool {
    if old.frames.len() != cur.frames.len() || old.refs.len() != cur.refs.len() {
        return false;
    }
    let mut ids = IdMap::default();
    for (i, (fo, fc)) in old.frames.iter().zip(&cur.frames).enumerate() {
        if fo.callsite != fc.callsite {
            return false;
        }
        let mask = live(i);
        for r in 0..Reg::COUNT {
            if mask & (1 << r) != 0 && !regsafe(&fo.regs[r], &fc.regs[r], &mut ids, exact) {
                return false;
            }
        }
        if !stacksafe(&fo.stack, &fc.stack, &mut ids, exact) {
            return false;
        }
    }
    old.refs.iter().zip(&cur.refs).all(|(o, c)| ids.check(o.id, c.id))
}

/// `widen_imprecise_scalars`: a callback returning to its helper call widens every scalar of its
/// callers (registers and spilled slots) that changed since the callback was entered (`old`) to
/// an unknown number, so repeated visits converge. The kernel widens only scalars not marked
/// precise; ebpf-lab tracks no precision, so it widens them all.
pub fn widen_scalars(old: &[Frame], cur: &mut VState) {
    let same = |a: &RegState, b: &RegState| RegState { id: 0, ..*a } == RegState { id: 0, ..*b };
    let widen = |o: &RegState, c: &mut RegState| {
        if o.kind == RegKind::Scalar && c.kind == RegKind::Scalar && !same(o, c) {
            *c = RegState::unknown();
        }
    };
    for (fo, fc) in old.iter().zip(cur.frames.iter_mut()) {
        for (o, c) in fo.regs.iter().zip(fc.regs.iter_mut()) {
            widen(o, c);
        }
        for (so, sc) in fo.stack.slots.iter().zip(fc.stack.slots.iter_mut()) {
            if so.is_spill() && sc.is_spill() {
                widen(&so.spilled, &mut sc.spilled);
            }
        }
    }
}

/// `states_maybe_looping`: the innermost frames' registers are byte-for-byte the same.
pub fn maybe_looping(old: &VState, cur: &VState) -> bool {
    old.frames.len() == cur.frames.len() && old.cur().regs == cur.cur().regs
}
