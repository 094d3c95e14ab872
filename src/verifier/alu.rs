//! Arithmetic (`check_alu_op`, `adjust_reg_min_max_vals`): scalar transfer functions from
//! [`ScalarValue`], and pointer arithmetic with the kernel's rules — which pointers allow it,
//! constants folded into the fixed offset, variable offsets bounded, everything else refused
//! in the kernel's words.

use super::explore::{verr, Env, VResult};
use super::reg::{RegKind, RegState};
use super::scalar::ScalarValue;
use super::state::VState;
use crate::isa::{BinOp, ImmSrc, Insn, Operand, Reg, Width};

/// Pointer offsets beyond ±2^29 are refused (`BPF_MAX_VAR_OFF`).
pub const MAX_VAR_OFF: i64 = 1 << 29;

/// `check_reg_arg(SRC_OP)`: the register must have been written.
pub fn read_reg(st: &VState, r: Reg) -> VResult<RegState> {
    let reg = st.cur().regs[r.idx()];
    if !reg.is_init() {
        return Err(verr(format!("R{} !read_ok", r.num()), &[r.num()]));
    }
    Ok(reg)
}

/// `check_reg_arg(DST_OP)`: `r10` cannot be written.
pub fn check_write(r: Reg) -> VResult<()> {
    if r == Reg::R10 {
        return Err(verr("frame pointer is read only", &[10]));
    }
    Ok(())
}

/// The kernel's `bpf_alu_string` for an operation.
fn alu_string(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "+=",
        BinOp::Sub => "-=",
        BinOp::Mul => "*=",
        BinOp::Div | BinOp::SDiv => "/=",
        BinOp::Or => "|=",
        BinOp::And => "&=",
        BinOp::Lsh => "<<=",
        BinOp::Rsh => ">>=",
        BinOp::Mod | BinOp::SMod => "%=",
        BinOp::Xor => "^=",
        BinOp::Mov | BinOp::MovSx8 | BinOp::MovSx16 | BinOp::MovSx32 => "=",
        BinOp::Arsh => "s>>=",
    }
}

fn imm_scalar(width: Width, imm: i32) -> ScalarValue {
    match width {
        Width::W64 => ScalarValue::constant(imm as i64 as u64),
        Width::W32 => ScalarValue::constant(imm as u32 as u64),
    }
}

/// Checks an ALU instruction and applies it.
pub fn check_alu(env: &mut Env, st: &mut VState, insn: &Insn) -> VResult<()> {
    match *insn {
        Insn::Neg { width, dst } => {
            let d = read_reg(st, dst)?;
            check_write(dst)?;
            let out = if d.kind == RegKind::Scalar { RegState::scalar(d.var.neg(width)) } else { RegState::unknown() };
            st.cur_mut().regs[dst.idx()] = out;
        }
        Insn::Endian { op, bits, dst } => {
            let d = read_reg(st, dst)?;
            check_write(dst)?;
            let out =
                if d.kind == RegKind::Scalar { RegState::scalar(d.var.endian(op, bits)) } else { RegState::unknown() };
            st.cur_mut().regs[dst.idx()] = out;
        }
        Insn::Bin { width, op: BinOp::Mov, dst, src } => mov(env, st, width, dst, src, BinOp::Mov)?,
        Insn::Bin { width, op: op @ (BinOp::MovSx8 | BinOp::MovSx16 | BinOp::MovSx32), dst, src } => {
            mov(env, st, width, dst, src, op)?
        }
        Insn::Bin { width, op, dst, src } => {
            let s = match src {
                Operand::Reg(r) => read_reg(st, r)?,
                Operand::Imm(i) => RegState::scalar(imm_scalar(width, i)),
            };
            let d = read_reg(st, dst)?;
            if let Operand::Imm(i) = src {
                if matches!(op, BinOp::Div | BinOp::SDiv | BinOp::Mod | BinOp::SMod) && i == 0 {
                    return Err(verr("div by zero", &[]));
                }
                let bits = if width == Width::W64 { 64 } else { 32 };
                if matches!(op, BinOp::Lsh | BinOp::Rsh | BinOp::Arsh) && (i < 0 || i >= bits) {
                    return Err(verr(format!("invalid shift {i}"), &[]));
                }
            }
            check_write(dst)?;
            let out = arith(env, width, op, dst, &d, &s, matches!(src, Operand::Reg(_)))?;
            st.cur_mut().regs[dst.idx()] = out;
        }
        _ => {}
    }
    Ok(())
}

fn mov(env: &mut Env, st: &mut VState, width: Width, dst: Reg, src: Operand, op: BinOp) -> VResult<()> {
    let out = match src {
        Operand::Imm(i) => {
            check_write(dst)?;
            RegState::scalar(imm_scalar(width, i))
        }
        Operand::Reg(r) => {
            let mut s = read_reg(st, r)?;
            check_write(dst)?;
            let linkable = s.kind == RegKind::Scalar && s.var.const_value().is_none();
            match (width, op) {
                (Width::W64, BinOp::Mov) => {
                    if linkable && s.id == 0 {
                        // `assign_scalar_id_before_mov`: copies stay linked for branch refinement.
                        s.id = env.new_id();
                        st.cur_mut().regs[r.idx()].id = s.id;
                    }
                    s
                }
                (Width::W32, BinOp::Mov) if s.kind == RegKind::Scalar => {
                    let fits = s.var.umax <= u32::MAX as u64;
                    if fits && linkable && s.id == 0 {
                        s.id = env.new_id();
                        st.cur_mut().regs[r.idx()].id = s.id;
                    }
                    // `zext_32_to_64` then `reg_bounds_sync`: a negative 32-bit constant becomes a
                    // 64-bit constant in every view, not just in the tnum.
                    let mut var = s.var.zext32();
                    var.sync();
                    let mut v = RegState::scalar(var);
                    v.id = if fits { s.id } else { 0 };
                    v
                }
                (_, _) if s.kind == RegKind::Scalar => {
                    RegState::scalar(ScalarValue::constant(0).alu(op, width, &s.var))
                }
                (Width::W32, _) => {
                    let mut var = ScalarValue::unknown().zext32();
                    var.sync();
                    RegState::scalar(var)
                }
                (Width::W64, _) => RegState::unknown(),
            }
        }
    };
    st.cur_mut().regs[dst.idx()] = out;
    Ok(())
}

/// Scalar result of `d op s` where the kernel can compute it (`is_safe_to_compute_dst_reg_range`),
/// otherwise unknown.
fn scalar_op(width: Width, op: BinOp, d: &ScalarValue, s: &ScalarValue) -> ScalarValue {
    let bits = if width == Width::W64 { 64 } else { 32 };
    let src_const = match width {
        Width::W64 => s.const_value().is_some(),
        Width::W32 => s.const_value32().is_some(),
    };
    let safe = match op {
        BinOp::Add | BinOp::Sub | BinOp::And | BinOp::Xor | BinOp::Or | BinOp::Mul => true,
        BinOp::Lsh | BinOp::Rsh | BinOp::Arsh => src_const && s.umax < bits,
        _ => false,
    };
    if safe {
        d.alu(op, width, s)
    } else {
        ScalarValue::unknown()
    }
}

/// `adjust_reg_min_max_vals`.
fn arith(
    env: &mut Env,
    width: Width,
    op: BinOp,
    dst: Reg,
    d: &RegState,
    s: &RegState,
    src_is_reg: bool,
) -> VResult<RegState> {
    let dn = dst.num();
    match (d.is_pointer(), s.is_pointer()) {
        (false, false) => Ok(RegState::scalar(scalar_op(width, op, &d.var, &s.var))),
        (true, true) => {
            if op == BinOp::Sub {
                return Ok(RegState::unknown());
            }
            Err(verr(format!("R{dn} pointer {} pointer prohibited", alu_string(op)), &[dn]))
        }
        (true, false) => ptr_arith(env, width, op, dn, d, s, false),
        (false, true) => {
            let _ = src_is_reg;
            ptr_arith(env, width, op, dn, s, d, true)
        }
    }
}

/// `check_reg_sane_offset_ptr`: a pointer's offset stays within ±2^29.
fn sane_pointer(var: &ScalarValue, off: i32, ptr: &RegState) -> VResult<()> {
    let t = ptr.type_str();
    let bad = |v: i64| v >= MAX_VAR_OFF || v <= -MAX_VAR_OFF;
    if let Some(v) = var.const_value().map(|v| v as i64).filter(|v| bad(*v)) {
        return Err(verr(format!("{t} pointer offset {v} is not allowed"), &[]));
    }
    if bad(var.smin) {
        return Err(verr(format!("{t} pointer offset {} is not allowed", var.smin), &[]));
    }
    if bad(off as i64) {
        return Err(verr(format!("{t} pointer offset {off} is not allowed"), &[]));
    }
    Ok(())
}

/// `check_reg_sane_offset_scalar`: what is added to a pointer is bounded.
fn sane_offset(reg: &RegState, var: &ScalarValue, off: i32, ptr: &RegState) -> VResult<()> {
    let t = ptr.type_str();
    if let Some(v) = var.const_value() {
        let v = v as i64;
        if v >= MAX_VAR_OFF || v <= -MAX_VAR_OFF {
            return Err(verr(format!("math between {t} pointer and {v} is not allowed"), &[]));
        }
    }
    if off as i64 >= MAX_VAR_OFF || off as i64 <= -MAX_VAR_OFF {
        return Err(verr(format!("{t} pointer offset {off} is not allowed"), &[]));
    }
    if var.smin == i64::MIN {
        return Err(verr(
            format!("math between {t} pointer and register with unbounded min value is not allowed"),
            &[],
        ));
    }
    if var.smin >= MAX_VAR_OFF || var.smin <= -MAX_VAR_OFF {
        return Err(verr(format!("value {} makes {t} pointer be out of bounds", var.smin), &[]));
    }
    let _ = reg;
    Ok(())
}

/// `adjust_ptr_min_max_vals`: `ptr op off` (`scalar_is_dst`: the scalar was the destination).
fn ptr_arith(
    env: &mut Env,
    width: Width,
    op: BinOp,
    dn: u8,
    ptr: &RegState,
    off: &RegState,
    scalar_is_dst: bool,
) -> VResult<RegState> {
    let t = ptr.type_str();
    let k = off.var;
    let known = k.const_value().is_some();
    if width == Width::W32 {
        if op == BinOp::Sub {
            return Ok(RegState::unknown());
        }
        return Err(verr(format!("R{dn} 32-bit pointer arithmetic prohibited"), &[dn]));
    }
    if ptr.maybe_null {
        return Err(verr(format!("R{dn} pointer arithmetic on {t} prohibited, null-check it first"), &[dn]));
    }
    let allowed = match ptr.kind {
        RegKind::Ctx | RegKind::MapValue | RegKind::Stack | RegKind::Packet | RegKind::PacketMeta => true,
        RegKind::RingbufMem | RegKind::Func | RegKind::MapKey => true,
        RegKind::MapPtr => known && k.smin == 0 && op == BinOp::Add,
        _ => false,
    };
    if !allowed {
        return Err(verr(format!("R{dn} pointer arithmetic on {t} prohibited"), &[dn]));
    }
    if (known && (k.smin != k.smax || k.umin != k.umax)) || k.smin > k.smax || k.umin > k.umax {
        return Ok(RegState::unknown());
    }
    sane_offset(off, &off.var, 0, ptr)?;
    sane_pointer(&ptr.var, ptr.off, ptr)?;
    let mut out = *ptr;
    let kv = k.smin;
    match op {
        BinOp::Add => {
            let sum = ptr.off as i64 + kv;
            if known && sum == sum as i32 as i64 {
                out.off = sum as i32;
            } else {
                out.var = ptr.var.alu(BinOp::Add, Width::W64, &k);
                if ptr.kind.is_pkt() {
                    out.id = env.new_id();
                    out.range = 0;
                }
            }
        }
        BinOp::Sub => {
            if scalar_is_dst {
                return Err(verr(format!("R{dn} tried to subtract pointer from scalar"), &[dn]));
            }
            if ptr.kind == RegKind::Stack {
                return Err(verr(format!("R{dn} subtraction from stack pointer prohibited"), &[dn]));
            }
            let diff = ptr.off as i64 - kv;
            if known && diff == diff as i32 as i64 {
                out.off = diff as i32;
            } else {
                out.var = ptr.var.alu(BinOp::Sub, Width::W64, &k);
                if ptr.kind.is_pkt() {
                    out.id = env.new_id();
                    if kv < 0 {
                        out.range = 0;
                    }
                }
            }
        }
        BinOp::And | BinOp::Or | BinOp::Xor => {
            return Err(verr(format!("R{dn} bitwise operator {} on pointer prohibited", alu_string(op)), &[dn]));
        }
        _ => {
            return Err(verr(format!("R{dn} pointer arithmetic with {} operator prohibited", alu_string(op)), &[dn]));
        }
    }
    sane_pointer(&out.var, out.off, ptr)?;
    Ok(out)
}

/// Whether the function at slot `start` has static linkage in the program's BTF, as callbacks
/// must: a C callback declared without `static` is global. (Made-up BTF is always static.)
fn callback_is_static(program: &crate::program::Program, start: i64) -> bool {
    let Some(btf) = &program.btf else { return true };
    let Some(&[_, type_id]) = btf.func_info.iter().find(|f| i64::from(f[0]) == start) else { return true };
    let Ok(parsed) = crate::elf::btf::Btf::parse(&btf.blob) else { return true };
    parsed.get(type_id).is_none_or(|t| t.code != 12 || t.vlen == 0)
}

/// `lddw`: a constant, a map reference, a map value address, or a callback.
pub fn check_ld_imm64(env: &mut Env, st: &mut VState, dst: Reg, src: ImmSrc, imm: i32, next_imm: i32) -> VResult<()> {
    check_write(dst)?;
    let nmaps = env.program.maps.len() as i64;
    let map = |idx: i32| -> VResult<u32> {
        if (idx as i64) < 0 || idx as i64 >= nmaps {
            return Err(verr(format!("fd_idx {idx} is not pointing to valid bpf_map"), &[]));
        }
        Ok(idx as u32)
    };
    let out = match src {
        ImmSrc::Imm => RegState::known(Insn::imm64(imm, next_imm)),
        ImmSrc::MapIdx | ImmSrc::MapFd => RegState { map: map(imm)?, ..RegState::pointer(RegKind::MapPtr) },
        ImmSrc::MapIdxValue | ImmSrc::MapValue => {
            let m = map(imm)?;
            let vs = env.maps[m as usize].value_size;
            if next_imm as u32 >= vs {
                return Err(verr(
                    format!("invalid access to map value pointer, value_size={vs} off={}", next_imm as u32),
                    &[],
                ));
            }
            RegState { map: m, off: next_imm, ..RegState::pointer(RegKind::MapValue) }
        }
        // A callback. The kernel wants BTF func_info for it ("missing btf func_info"); clang -g
        // writes it and ebpf-lab's loader makes it up for programs without (`kernel::func_btf`),
        // so it is always there. The target slot is kept in `mem_size` (`subprogno`).
        ImmSrc::Func => {
            let start = env.insn_idx as i64 + imm as i64 + 1;
            if !callback_is_static(env.program, start) {
                return Err(verr("callback function not static", &[]));
            }
            RegState { mem_size: start as u32, ..RegState::pointer(RegKind::Func) }
        }
        ImmSrc::BtfId => return Err(verr("kernel variables (BTF ids) are not modelled by ebpf-lab's verifier", &[])),
    };
    st.cur_mut().regs[dst.idx()] = out;
    Ok(())
}
