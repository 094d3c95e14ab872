//! Conditional jumps (`check_cond_jmp_op`): an edge no value can take is dead and not explored;
//! otherwise both edges are, each with the operands narrowed to the values that take it
//! ([`ScalarValue::refine`]), copies linked by id narrowed alike, `map_value_or_null == 0`
//! splitting into NULL and a usable pointer, and `pkt + N > pkt_end` proving packet bytes.

use super::alu::read_reg;
use super::explore::{Env, Next, VResult};
use super::reg::{RegKind, RegState};
use super::scalar::ScalarValue;
use super::state::VState;
use crate::isa::{JmpCond, Operand, Reg, Width};

/// The largest packet offset the verifier reasons about (`MAX_PACKET_OFF`).
const MAX_PACKET_OFF: u64 = 0xffff;

/// `is_branch_taken` for a pointer against a scalar: only a non-NULL pointer against 0 is known.
fn pointer_branch(p: &RegState, other: &RegState, cond: JmpCond, width: Width) -> Option<bool> {
    // The kernel decides a pointer against 0 only in 64-bit compares: its low half may be 0.
    if width == Width::W32 {
        return None;
    }
    let c = other.const_value()?;
    if c != 0 || !p.not_null() {
        return None;
    }
    match cond {
        JmpCond::Eq => Some(false),
        JmpCond::Ne => Some(true),
        _ => None,
    }
}

/// `is_pkt_ptr_branch_taken`: a packet pointer already proven at or past `data_end`.
fn pkt_branch(d: &RegState, s: &RegState, cond: JmpCond) -> Option<bool> {
    let (pkt, cond) = if s.kind == RegKind::PacketEnd {
        (d, cond)
    } else if d.kind == RegKind::PacketEnd {
        let flipped = match cond {
            JmpCond::Gt => JmpCond::Lt,
            JmpCond::Lt => JmpCond::Gt,
            JmpCond::Ge => JmpCond::Le,
            JmpCond::Le => JmpCond::Ge,
            c => c,
        };
        (s, flipped)
    } else {
        return None;
    };
    if pkt.range >= 0 {
        return None;
    }
    match cond {
        JmpCond::Le | JmpCond::Gt if pkt.range == BEYOND_PKT_END => Some(cond == JmpCond::Gt),
        JmpCond::Lt | JmpCond::Ge => Some(cond == JmpCond::Ge),
        _ => None,
    }
}

/// Checks a conditional jump at `pc` and says where control goes.
#[allow(clippy::too_many_arguments)]
pub fn check_cond_jmp(
    _env: &mut Env,
    st: &mut VState,
    pc: usize,
    width: Width,
    cond: JmpCond,
    dst: Reg,
    src: Operand,
    off: i16,
) -> VResult<Next> {
    let d = read_reg(st, dst)?;
    let s = match src {
        Operand::Reg(r) => read_reg(st, r)?,
        Operand::Imm(i) => RegState::scalar(match width {
            Width::W64 => ScalarValue::constant(i as i64 as u64),
            Width::W32 => ScalarValue::constant(i as u32 as u64),
        }),
    };
    let target = (pc as i64 + off as i64 + 1) as usize;
    let pkt_any = |r: &RegState| r.kind.is_pkt() || r.kind == RegKind::PacketEnd;
    let pred = if pkt_any(&d) && pkt_any(&s) && width == Width::W64 {
        pkt_branch(&d, &s, cond)
    } else if pkt_any(&d) {
        None
    } else if d.is_pointer() {
        pointer_branch(&d, &s, cond, width)
    } else if s.is_pointer() {
        None
    } else {
        d.var.branch_taken(cond, width, &s.var)
    };
    match pred {
        Some(true) => return Ok(Next::Goto(target)),
        Some(false) => return Ok(Next::Goto(pc + 1)),
        None => {}
    }
    let mut taken = st.clone();
    let src_reg = match src {
        Operand::Reg(r) => Some(r),
        Operand::Imm(_) => None,
    };
    if d.kind == RegKind::Scalar && s.kind == RegKind::Scalar {
        let t = d.var.refine(cond, width, &s.var, true);
        let f = d.var.refine(cond, width, &s.var, false);
        match (t, f) {
            (None, None) => return Ok(Next::Goto(pc + 1)),
            (Some(_), None) => {
                apply(st, dst, src_reg, t.expect("some"));
                return Ok(Next::Goto(target));
            }
            (None, Some(_)) => {
                apply(st, dst, src_reg, f.expect("some"));
                return Ok(Next::Goto(pc + 1));
            }
            (Some(t), Some(f)) => {
                apply(&mut taken, dst, src_reg, t);
                apply(st, dst, src_reg, f);
            }
        }
    } else if width == Width::W64
        && src_reg.is_none()
        && s.const_value() == Some(0)
        && matches!(cond, JmpCond::Eq | JmpCond::Ne)
        && d.maybe_null
    {
        mark_ptr_or_null(&mut taken, d.id, cond == JmpCond::Eq);
        mark_ptr_or_null(st, d.id, cond == JmpCond::Ne);
    } else if width == Width::W64 {
        if let Some(r) = src_reg {
            pkt_pointers(cond, dst, r, &d, &s, st, &mut taken);
        }
    }
    Ok(Next::Fork { target, state: Box::new(taken) })
}

/// Writes refined operands back, and to every register linked by id (`sync_linked_regs`).
fn apply(st: &mut VState, dst: Reg, src: Option<Reg>, (nd, ns): (ScalarValue, ScalarValue)) {
    let set = |st: &mut VState, r: Reg, v: ScalarValue| {
        let id = st.cur().regs[r.idx()].id;
        st.cur_mut().regs[r.idx()].var = v;
        if id != 0 {
            st.for_each_reg(|reg| {
                if reg.kind == RegKind::Scalar && reg.id == id {
                    reg.var = v;
                }
            });
        }
    };
    set(st, dst, nd);
    if let Some(s) = src {
        set(st, s, ns);
    }
}

/// `mark_ptr_or_null_regs`: every copy of pointer `id` becomes NULL (the scalar 0) or non-NULL.
fn mark_ptr_or_null(st: &mut VState, id: u32, is_null: bool) {
    if id == 0 {
        return;
    }
    let mut released = None;
    st.for_each_reg(|reg| {
        if reg.maybe_null && reg.id == id {
            if is_null {
                if reg.ref_id != 0 {
                    released = Some(reg.ref_id);
                }
                *reg = RegState::known(0);
            } else {
                reg.maybe_null = false;
                reg.id = 0;
            }
        }
    });
    if let Some(r) = released {
        st.refs.retain(|x| x.id != r);
    }
}

/// `find_good_pkt_pointers`: every copy of `pkt` proves `off` (+1 when `open`) bytes.
fn good_pkt_pointers(st: &mut VState, pkt: &RegState, open: bool) {
    if pkt.off < 0 || (pkt.off == 0 && open) {
        return;
    }
    if pkt.var.umax > MAX_PACKET_OFF || pkt.var.umax + pkt.off as u64 > MAX_PACKET_OFF {
        return;
    }
    let range = pkt.off + i32::from(open);
    let (kind, id) = (pkt.kind, pkt.id);
    st.for_each_reg(|r| {
        if r.kind == kind && r.id == id {
            r.range = r.range.max(range);
        }
    });
}

/// `try_match_pkt_pointers`: comparisons of a packet pointer with `pkt_end` (or meta with data).
/// `mark_pkt_end`: on this edge packet pointer `r` is past `data_end` (`open`: by at least one
/// byte), so nothing can be read through it.
fn mark_pkt_end(st: &mut VState, r: Reg, open: bool) {
    let reg = &mut st.cur_mut().regs[r.idx()];
    if reg.kind == RegKind::Packet {
        reg.range = if open { BEYOND_PKT_END } else { AT_PKT_END };
    }
}

/// `range` of a packet pointer known to be at `data_end`.
const AT_PKT_END: i32 = -1;
/// `range` of a packet pointer known to be past `data_end`.
const BEYOND_PKT_END: i32 = -2;

fn pkt_pointers(cond: JmpCond, dst: Reg, src: Reg, d: &RegState, s: &RegState, fall: &mut VState, taken: &mut VState) {
    let data_vs_end = |a: &RegState, b: &RegState| {
        (a.kind == RegKind::Packet && b.kind == RegKind::PacketEnd)
            || (a.kind == RegKind::PacketMeta
                && b.kind == RegKind::Packet
                && b.off == 0
                && b.var.const_value() == Some(0))
    };
    let end_vs_data = |a: &RegState, b: &RegState| data_vs_end(b, a);
    // The edge where bytes are proven, then the edge where the pointer is past the end.
    let (good, good_reg, good_open, end, end_reg, end_open) = match cond {
        JmpCond::Gt if data_vs_end(d, s) => (fall, d, false, taken, dst, true),
        JmpCond::Gt if end_vs_data(d, s) => (taken, s, true, fall, src, false),
        JmpCond::Lt if data_vs_end(d, s) => (taken, d, true, fall, dst, false),
        JmpCond::Lt if end_vs_data(d, s) => (fall, s, false, taken, src, true),
        JmpCond::Ge if data_vs_end(d, s) => (fall, d, true, taken, dst, false),
        JmpCond::Ge if end_vs_data(d, s) => (taken, s, false, fall, src, true),
        JmpCond::Le if data_vs_end(d, s) => (taken, d, false, fall, dst, true),
        JmpCond::Le if end_vs_data(d, s) => (fall, s, true, taken, src, false),
        _ => return,
    };
    good_pkt_pointers(good, good_reg, good_open);
    mark_pkt_end(end, end_reg, end_open);
}
