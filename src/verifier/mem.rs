//! Memory accesses (`check_mem_access` and friends): loads, stores and atomics through each kind
//! of pointer — the context by the program type's rules (`runtime::ctx`, the same the interpreter
//! enforces), the packet within the range proven against `data_end`, map values within
//! `value_size`, the stack within its 512 bytes (spills and fills), ring buffer records — and the
//! memory a helper reads or writes through a pointer argument.

use super::alu::{check_write, read_reg, MAX_VAR_OFF};
use super::explore::{verr, Env, VResult};
use super::reg::{RegKind, RegState};
use super::scalar::ScalarValue;
use super::stack::{slot_of, SlotType};
use super::state::VState;
use crate::isa::{AtomicOp, Insn, LegacyMode, Operand, Reg, Size};
use crate::program::ProgType;
use crate::runtime::ctx::{ctx_layout, FieldKind};

/// The kernel's stack size per frame (`MAX_BPF_STACK`).
pub const MAX_BPF_STACK: i64 = 512;

/// What a store writes.
#[derive(Clone, Copy)]
pub enum Stored {
    /// A register's value.
    Reg(RegState),
    /// An immediate (`BPF_ST`).
    Imm(i64),
    /// Unknown bytes (a helper's output, an atomic's result).
    Unknown,
}

/// Checks a load, store, atomic or legacy packet load, and applies it.
pub fn check_mem_insn(env: &mut Env, st: &mut VState, insn: &Insn) -> VResult<()> {
    match *insn {
        Insn::Load { size, signed, dst, src, off } => {
            read_reg(st, src)?;
            check_write(dst)?;
            let v = access(env, st, src.num(), off as i64, size.bytes() as u32, None, signed, false)?;
            st.cur_mut().regs[dst.idx()] = v.unwrap_or_else(RegState::unknown);
        }
        Insn::Store { size, dst, off, src } => {
            let value = match src {
                Operand::Reg(r) => Stored::Reg(read_reg(st, r)?),
                Operand::Imm(i) => Stored::Imm(i as i64),
            };
            read_reg(st, dst)?;
            access(env, st, dst.num(), off as i64, size.bytes() as u32, Some(value), false, false)?;
        }
        Insn::Atomic { size, op, fetch, dst, src, off } => {
            if !matches!(size, Size::W | Size::DW) {
                return Err(verr("invalid atomic operand size", &[]));
            }
            read_reg(st, src)?;
            let d = read_reg(st, dst)?;
            if op == AtomicOp::CmpXchg {
                read_reg(st, Reg::R0)?;
            }
            if matches!(d.kind, RegKind::Ctx | RegKind::Packet | RegKind::PacketMeta | RegKind::SockCommon) {
                let n = dst.num();
                return Err(verr(format!("BPF_ATOMIC stores into R{n} {} is not allowed", d.type_str()), &[n]));
            }
            let load = if op == AtomicOp::CmpXchg {
                Some(Reg::R0)
            } else if fetch || op == AtomicOp::Xchg {
                Some(src)
            } else {
                None
            };
            if let Some(l) = load {
                check_write(l)?;
            }
            let bytes = size.bytes() as u32;
            let old = access(env, st, dst.num(), off as i64, bytes, None, false, true)?;
            access(env, st, dst.num(), off as i64, bytes, Some(Stored::Unknown), false, true)?;
            if let Some(l) = load {
                let v = match old {
                    Some(r) if r.kind == RegKind::Scalar => RegState::scalar(ScalarValue::loaded(bytes as u8, false)),
                    Some(r) => r,
                    None => RegState::unknown(),
                };
                st.cur_mut().regs[l.idx()] = v;
            }
        }
        Insn::LegacyLoad { mode, size, src, .. } => {
            if !matches!(env.prog_type, ProgType::Socket | ProgType::Tc) {
                return Err(verr("BPF_LD_[ABS|IND] instructions not allowed for this program type", &[]));
            }
            if size == Size::DW {
                return Err(verr("BPF_LD_[ABS|IND] uses reserved fields", &[]));
            }
            let r6 = read_reg(st, Reg::new(6).expect("r6"))?;
            if !st.refs.is_empty() {
                return Err(verr("BPF_LD_[ABS|IND] would lead to reference leak", &[]));
            }
            if r6.kind != RegKind::Ctx {
                return Err(verr("at the time of BPF_LD_ABS|IND R6 != pointer to skb", &[6]));
            }
            if mode == LegacyMode::Ind {
                read_reg(st, src)?;
            }
            check_ptr_off(&r6, 6)?;
            let regs = &mut st.cur_mut().regs;
            for r in regs.iter_mut().take(6) {
                *r = RegState::not_init();
            }
            regs[0] = RegState::unknown();
        }
        _ => {}
    }
    Ok(())
}

/// A tnum as the kernel's messages print it: a constant as a number, else `(value; mask)`.
pub fn tnum_text(t: super::tnum::Tnum) -> String {
    if t.is_const() {
        (t.value as i64).to_string()
    } else {
        t.to_string()
    }
}

/// `check_ptr_alignment`: stack accesses are always aligned to their size; with `strict`
/// (atomics), every access is.
fn check_alignment(reg: &RegState, n: u8, off: i64, size: u32, strict: bool) -> VResult<()> {
    use super::tnum::Tnum;
    let (desc, ip_align) = match reg.kind {
        RegKind::Stack => ("stack ", 0),
        _ if !strict || size == 1 => return Ok(()),
        RegKind::Packet | RegKind::PacketMeta => ("packet ", 2),
        RegKind::MapValue => ("value ", 0),
        RegKind::Ctx => ("context ", 0),
        _ => ("", 0),
    };
    let total = reg.var.var_off.add(Tnum::constant((ip_align + reg.off as i64 + off) as u64));
    if total.is_aligned(size as u64) {
        return Ok(());
    }
    let tn = tnum_text(reg.var.var_off);
    let msg = if ip_align != 0 {
        format!("misaligned packet access off {ip_align}+{tn}+{}+{off} size {size}", reg.off)
    } else {
        format!("misaligned {desc}access off {tn}+{}+{off} size {size}", reg.off)
    };
    Err(verr(msg, &[n]))
}

/// `__check_ptr_off_reg` for a context pointer: no fixed or variable offset.
pub fn check_ptr_off(reg: &RegState, n: u8) -> VResult<()> {
    let t = reg.type_str();
    if reg.off < 0 {
        return Err(verr(format!("negative offset {t} ptr R{n} off={} disallowed", reg.off), &[n]));
    }
    if reg.off != 0 {
        return Err(verr(format!("dereference of modified {t} ptr R{n} off={} disallowed", reg.off), &[n]));
    }
    if reg.var.const_value() != Some(0) {
        return Err(verr(format!("variable {t} access var_off={} disallowed", tnum_text(reg.var.var_off)), &[n]));
    }
    Ok(())
}

/// `__check_mem_access`: `[off, off + size)` within `[0, mem_size)`, else the region's message.
fn mem_bounds(
    reg: &RegState,
    n: u8,
    off: i64,
    size: u32,
    mem_size: u32,
    zero_ok: bool,
    maps: &[super::reg::MapInfo],
) -> VResult<()> {
    let size_ok = size > 0 || zero_ok;
    if off >= 0 && size_ok && off as u64 + size as u64 <= mem_size as u64 {
        return Ok(());
    }
    let _ = maps;
    let off = off as i32;
    let msg = match reg.kind {
        RegKind::MapValue => format!("invalid access to map value, value_size={mem_size} off={off} size={size}"),
        RegKind::MapKey => format!("invalid access to map key, key_size={mem_size} off={off} size={size}"),
        RegKind::Packet | RegKind::PacketMeta | RegKind::PacketEnd => {
            format!("invalid access to packet, off={off} size={size}, R{n}(id={},off={off},r={mem_size})", reg.id)
        }
        _ => format!("invalid access to memory, mem_size={mem_size} off={off} size={size}"),
    };
    Err(verr(msg, &[n]))
}

/// `check_mem_region_access`: the fixed offset plus every possible variable offset.
fn mem_region(env: &Env, reg: &RegState, n: u8, off: i64, size: u32, mem_size: u32, zero_ok: bool) -> VResult<()> {
    let v = &reg.var;
    if v.smin < 0 && (v.smin == i64::MIN || off + v.smin != (off + v.smin) as i32 as i64 || v.smin + off < 0) {
        return Err(verr(
            format!("R{n} min value is negative, either use unsigned index or do a if (index >=0) check."),
            &[n],
        ));
    }
    mem_bounds(reg, n, v.smin + off, size, mem_size, zero_ok, &env.maps)?;
    if v.umax >= MAX_VAR_OFF as u64 {
        return Err(verr(format!("R{n} unbounded memory access, make sure to bounds check any such access"), &[n]));
    }
    mem_bounds(reg, n, v.umax as i64 + off, size, mem_size, zero_ok, &env.maps)
}

/// `check_packet_access`.
fn packet(env: &Env, reg: &RegState, n: u8, off: i64, size: u32, zero_ok: bool) -> VResult<()> {
    if reg.var.smin < 0 {
        return Err(verr(
            format!("R{n} min value is negative, either use unsigned index or do a if (index >=0) check."),
            &[n],
        ));
    }
    if reg.range < 0 {
        // Proven past `data_end` by a comparison (`mark_pkt_end`): nothing is readable.
        return Err(verr(format!("R{n} offset is outside of the packet"), &[n]));
    }
    mem_bounds(reg, n, off, size, reg.range as u32, zero_ok, &env.maps)
}

/// `check_stack_access_within_bounds`: gives the lowest offset touched.
fn stack_bounds(reg: &RegState, n: u8, off: i64, size: i64, write: bool) -> VResult<i64> {
    let extra = if write { " write to" } else { " read from" };
    let (min_off, max_off) = match reg.var.const_value() {
        Some(c) => {
            let m = c as i64 + off;
            (m, m + size)
        }
        None => {
            if reg.var.smax >= MAX_VAR_OFF || reg.var.smin <= -MAX_VAR_OFF {
                return Err(verr(format!("invalid unbounded variable-offset{extra} stack R{n}"), &[n]));
            }
            (reg.var.smin + off, reg.var.smax + off + size)
        }
    };
    if !(-MAX_BPF_STACK..0).contains(&min_off) || max_off > 0 || size < 0 {
        let msg = if reg.var.const_value().is_some() {
            format!("invalid{extra} stack R{n} off={off} size={size}")
        } else {
            format!(
                "invalid variable-offset{extra} stack R{n} var_off={} off={off} size={size}",
                tnum_text(reg.var.var_off)
            )
        };
        return Err(verr(msg, &[n]));
    }
    Ok(min_off)
}

/// A load (`value` None, giving the loaded register) or store through register `n` at `off`.
#[allow(clippy::too_many_arguments)]
pub fn access(
    env: &mut Env,
    st: &mut VState,
    n: u8,
    off: i64,
    size: u32,
    value: Option<Stored>,
    signed: bool,
    strict: bool,
) -> VResult<Option<RegState>> {
    let reg = st.cur().regs[n as usize];
    let write = value.is_some();
    check_alignment(&reg, n, off, size, strict)?;
    // Recorded before the checks below: if one fails, the program is rejected and no proof is
    // handed out.
    if let Some(proofs) = &mut env.proofs {
        if let Some(p) = proofs.get_mut(env.insn_idx) {
            *p = Some(super::AccessProof::merge(*p, super::AccessProof::of(&reg, st.curframe())));
        }
    }
    let off = off + reg.off as i64;
    let loaded = match reg.kind {
        RegKind::MapValue => {
            let m = &env.maps[reg.map as usize];
            let vs = m.value_size;
            if write
                && env.program.maps.get(reg.map as usize).is_some_and(crate::program::MapDef::read_only_to_programs)
            {
                return Err(verr(format!("write into map forbidden, value_size={vs} off={off} size={size}"), &[n]));
            }
            if reg.maybe_null {
                return Err(verr(format!("R{n} invalid mem access '{}'", reg.type_str()), &[n]));
            }
            mem_region(env, &reg, n, off, size, vs, false)?;
            RegState::unknown()
        }
        RegKind::RingbufMem if !reg.maybe_null => {
            mem_region(env, &reg, n, off, size, reg.mem_size, false)?;
            RegState::unknown()
        }
        RegKind::MapKey => {
            if write {
                return Err(verr(format!("write to change key R{n} not allowed"), &[n]));
            }
            mem_region(env, &reg, n, off, size, env.maps[reg.map as usize].key_size, false)?;
            RegState::unknown()
        }
        RegKind::Ctx => {
            check_ptr_off(&reg, n)?;
            ctx_access(env, off, size, write)?
        }
        RegKind::Stack => {
            let min_off = stack_bounds(&reg, n, off, size as i64, write)?;
            env.use_stack(st, (-min_off) as u32);
            let frame = reg.frame as usize;
            match (reg.var.const_value(), value) {
                (Some(c), Some(v)) => {
                    let at = (c as i64 + off) as i32;
                    let (r, imm) = match v {
                        Stored::Reg(r) => (Some(r), None),
                        Stored::Imm(i) => (None, Some(i)),
                        Stored::Unknown => (Some(RegState::unknown()), None),
                    };
                    if let Some(f) = st.frames.get_mut(frame) {
                        f.stack.write(at, size as usize, r.as_ref(), imm).map_err(|m| verr(m, &[n]))?;
                    }
                    RegState::unknown()
                }
                (Some(c), None) => stack_read(env, st, frame, (c as i64 + off) as i32, size, n)?,
                (None, Some(_)) => {
                    if let Some(f) = st.frames.get_mut(frame) {
                        f.stack.grow((-min_off) as usize);
                        let lo = min_off as i32;
                        let hi = (reg.var.smax + off + size as i64) as i32;
                        f.stack.clobber(lo, (hi - lo) as usize);
                    }
                    RegState::unknown()
                }
                (None, None) => RegState::unknown(),
            }
        }
        RegKind::Packet | RegKind::PacketMeta => {
            // `may_access_direct_pkt_data`: only these types may write the packet.
            if write && !matches!(env.prog_type, ProgType::Xdp | ProgType::Tc | ProgType::LwtXmit) {
                return Err(verr("cannot write into packet", &[n]));
            }
            packet(env, &reg, n, off, size, false)?;
            RegState::unknown()
        }
        // As root, `struct bpf_map` and sockets are readable through BTF.
        RegKind::SockCommon | RegKind::MapPtr if !reg.maybe_null && !write => RegState::unknown(),
        _ => {
            if write && reg.kind == RegKind::SockCommon {
                return Err(verr(format!("R{n} cannot write into {}", reg.type_str()), &[n]));
            }
            return Err(verr(format!("R{n} invalid mem access '{}'", reg.type_str()), &[n]));
        }
    };
    if write {
        return Ok(None);
    }
    // `coerce_reg_to_size[_sx]`: a narrow load keeps what it can of a filled scalar.
    let v = if loaded.kind == RegKind::Scalar && size < 8 {
        let narrowing = loaded.var.umax >> (8 * size) != 0;
        RegState { var: loaded.var.truncated(size as u8, signed), id: if narrowing { 0 } else { loaded.id }, ..loaded }
    } else {
        loaded
    };
    Ok(Some(v))
}

/// A load from the context at `off`: what the field gives (`check_ctx_access`).
fn ctx_access(env: &mut Env, off: i64, size: u32, write: bool) -> VResult<RegState> {
    let bad = || verr(format!("invalid bpf_context access off={off} size={size}"), &[]);
    let Some(layout) = ctx_layout(env.prog_type) else {
        // SYSCALL programs: any aligned access in the first 64 KiB (`syscall_prog_is_valid_access`).
        if off < 0 || off >= u16::MAX as i64 || off % size as i64 != 0 {
            return Err(bad());
        }
        return Ok(RegState::unknown());
    };
    if layout.any_aligned_read {
        // Tracepoints (`tp_prog_is_valid_access`): any aligned read past the common header.
        // `off < sizeof(void *)` compares unsigned, so negative offsets pass it.
        if write || (off as u64) < 8 || off >= TRACE_SIZE || off % size as i64 != 0 {
            return Err(bad());
        }
        return Ok(RegState::unknown());
    }
    let field = layout.check_access(off, size, write).map_err(|_| bad())?;
    Ok(match field.kind {
        FieldKind::Scalar => RegState::unknown(),
        FieldKind::PacketStart => RegState::pointer(RegKind::Packet),
        FieldKind::PacketEnd => RegState::pointer(RegKind::PacketEnd),
        FieldKind::PacketMeta => RegState::pointer(RegKind::PacketMeta),
        FieldKind::SockOrNull => {
            RegState { maybe_null: true, id: env.new_id(), ..RegState::pointer(RegKind::SockCommon) }
        }
    })
}

/// `PERF_MAX_TRACE_SIZE`: the end of a tracepoint record as far as the verifier knows.
const TRACE_SIZE: i64 = 8192;

/// A fixed-offset stack read (`check_stack_read_fixed_off`).
fn stack_read(env: &mut Env, st: &mut VState, frame: usize, at: i32, size: u32, n: u8) -> VResult<RegState> {
    let Some(f) = st.frames.get(frame) else { return Ok(RegState::unknown()) };
    let (spi, _) = slot_of(at);
    let slot = f.stack.slots.get(spi).copied();
    let bytes: Vec<SlotType> = (0..size as i32).map(|i| f.stack.byte(at + i)).collect();
    if bytes.contains(&SlotType::Invalid) {
        env.warn(format!(
            "reads {size} stack byte(s) at fp{at} never written on this path: the kernel allows it for root, \
             the value is whatever was there (the interpreter reads 0)"
        ));
    }
    if let Some(slot) = slot.filter(|s| s.is_spill()) {
        let spill = slot.spill_size() as u32;
        let reg = slot.spilled;
        if size != 8 || spill != 8 {
            if reg.kind != RegKind::Scalar {
                return Err(verr("invalid size of register fill", &[n]));
            }
            // `bpf_stack_narrow_access_ok` (little-endian): the read starts where the spill
            // does, at the slot's lowest address, and so reads its low bytes.
            let at_spill = at % 8 == 0;
            if size <= spill && at_spill {
                let mut r = reg;
                if r.var.umax >> (8 * size).min(63) != 0 && size < 8 {
                    r.id = 0;
                }
                return Ok(r);
            }
            let spills = bytes.iter().filter(|b| **b == SlotType::Spill).count() as u32;
            let zeros = bytes.iter().filter(|b| **b == SlotType::Zero).count() as u32;
            if (spills == size && reg.is_null()) || zeros == size {
                return Ok(RegState::known(0));
            }
            return Ok(RegState::unknown());
        }
        return Ok(reg);
    }
    if bytes.iter().all(|b| *b == SlotType::Zero) {
        return Ok(RegState::known(0));
    }
    Ok(RegState::unknown())
}

/// Memory a helper reads or writes through pointer register `n`: `size` bytes (at most; a
/// variable size is checked at its maximum) (`check_helper_mem_access`). `write` marks the
/// stack bytes as written.
pub fn helper_mem(env: &mut Env, st: &mut VState, n: u8, size: u64, write: bool, zero_ok: bool) -> VResult<()> {
    let reg = st.cur().regs[n as usize];
    let size32 = size.min(u32::MAX as u64) as u32;
    match reg.kind {
        RegKind::Packet | RegKind::PacketMeta => packet(env, &reg, n, reg.off as i64, size32, zero_ok),
        RegKind::MapValue if !reg.maybe_null => {
            let vs = env.maps[reg.map as usize].value_size;
            if write
                && env.program.maps.get(reg.map as usize).is_some_and(crate::program::MapDef::read_only_to_programs)
            {
                return Err(verr(
                    format!("write into map forbidden, value_size={vs} off={} size={size}", reg.off),
                    &[n],
                ));
            }
            mem_region(env, &reg, n, reg.off as i64, size32, vs, zero_ok)
        }
        RegKind::RingbufMem if !reg.maybe_null => {
            mem_region(env, &reg, n, reg.off as i64, size32, reg.mem_size, zero_ok)
        }
        RegKind::MapKey => {
            if write {
                return Err(verr(format!("R{n} cannot write into {}", reg.type_str()), &[n]));
            }
            mem_region(env, &reg, n, reg.off as i64, size32, env.maps[reg.map as usize].key_size, zero_ok)
        }
        RegKind::Stack => {
            if size == 0 && !zero_ok {
                return Err(verr("invalid zero-sized read", &[n]));
            }
            let kind = if write { BpfAccess::Write } else { BpfAccess::Read };
            let min_off = stack_bounds(&reg, n, reg.off as i64, size as i64, kind == BpfAccess::Write)?;
            env.use_stack(st, (-min_off) as u32);
            let max_off = match reg.var.const_value() {
                Some(c) => c as i64 + reg.off as i64,
                None => reg.var.smax + reg.off as i64,
            };
            let frame = reg.frame as usize;
            if let Some(f) = st.frames.get_mut(frame) {
                f.stack.grow((-min_off) as usize);
                let hi = max_off + size as i64;
                let uninit = (min_off..hi).any(|o| f.stack.byte(o as i32) == SlotType::Invalid);
                if write {
                    f.stack.clobber(min_off as i32, (hi - min_off) as usize);
                } else if uninit {
                    env.warn(format!(
                        "a helper reads stack bytes never written on this path (fp{min_off}..fp{hi}): the kernel \
                         allows it for root"
                    ));
                }
            }
            Ok(())
        }
        RegKind::Ctx if ctx_layout(env.prog_type).is_none() => {
            if size == 0 {
                return if zero_ok { Ok(()) } else { Err(verr("invalid zero-sized read", &[n])) };
            }
            check_ptr_off(&reg, n)?;
            ctx_access(env, size as i64 - 1, 1, write).map(|_| ())
        }
        _ => {
            if zero_ok && size == 0 && reg.is_null() {
                return Ok(());
            }
            Err(verr(format!("R{n} type={} expected=fp", reg.type_str()), &[n]))
        }
    }
}

#[derive(PartialEq, Eq)]
enum BpfAccess {
    Read,
    Write,
}
