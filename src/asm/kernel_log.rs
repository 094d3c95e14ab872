//! Instructions as the kernel verifier log prints them (`kernel/bpf/disasm.c`,
//! `print_bpf_insn`): `(07) r1 += 8`, `(61) r2 = *(u32 *)(r1 +4)`, `(55) if r0 != 0x0 goto pc+2`,
//! `(85) call bpf_map_lookup_elem#1`. Execution traces use it so a student reads the same words
//! in ebpf-lab's trace and in the kernel's log.
//!
//! This is a display form, not a third input syntax: the LLVM syntax is what assembles.

use super::disasm::FormatCtx;
use crate::isa::{AtomicOp, BinOp, CallTarget, EndianOp, ImmSrc, Insn, LegacyMode, Operand, Reg, Size, Width};

fn wreg(width: Width, r: Reg) -> String {
    match width {
        Width::W64 => format!("r{}", r.num()),
        Width::W32 => format!("w{}", r.num()),
    }
}

fn movsx_cast(op: BinOp) -> &'static str {
    match op {
        BinOp::MovSx8 => "(s8)",
        BinOp::MovSx16 => "(s16)",
        BinOp::MovSx32 => "(s32)",
        _ => "",
    }
}

fn atomic_name(op: AtomicOp) -> &'static str {
    match op {
        AtomicOp::Add => "add",
        AtomicOp::Or => "or",
        AtomicOp::And => "and",
        AtomicOp::Xor => "xor",
        AtomicOp::Xchg => "xchg",
        AtomicOp::CmpXchg => "cmpxchg",
    }
}

fn atomic_alu(op: AtomicOp) -> &'static str {
    match op {
        AtomicOp::Add => "+=",
        AtomicOp::Or => "|=",
        AtomicOp::And => "&=",
        AtomicOp::Xor => "^=",
        AtomicOp::Xchg | AtomicOp::CmpXchg => "?",
    }
}

/// The instruction text after the `(opcode)` prefix, exactly as `print_bpf_insn` writes it.
pub fn format_insn(insn: &Insn, ctx: &FormatCtx) -> String {
    match *insn {
        Insn::Bin { width, op, dst, src: Operand::Reg(s) } => {
            format!("{} {} {}{}", wreg(width, dst), op.operator(), movsx_cast(op), wreg(width, s))
        }
        Insn::Bin { width, op, dst, src: Operand::Imm(i) } => format!("{} {} {i}", wreg(width, dst), op.operator()),
        Insn::Neg { width, dst } => format!("{} = -{}", wreg(width, dst), wreg(width, dst)),
        Insn::Endian { op, bits, dst } => match op {
            EndianOp::ToLe => format!("r{0} = le{bits} r{0}", dst.num()),
            EndianOp::ToBe => format!("r{0} = be{bits} r{0}", dst.num()),
            EndianOp::Swap => format!("r{0} = bswap{bits} r{0}", dst.num()),
        },
        Insn::Ja { off, long: false } => format!("goto pc{off:+}"),
        Insn::Ja { off, long: true } => format!("gotol pc{off:+}"),
        Insn::Jmp { width, cond, dst, src, off } => {
            let rhs = match src {
                Operand::Reg(s) => wreg(width, s),
                Operand::Imm(i) => format!("{:#x}", i as u32),
            };
            format!("if {} {} {rhs} goto pc{off:+}", wreg(width, dst), cond.operator())
        }
        Insn::Call(CallTarget::Helper(id)) => {
            let name = super::helper_names::helper_name(id).unwrap_or_else(|| "unknown".into());
            format!("call {name}#{id}")
        }
        Insn::Call(CallTarget::Local(off)) => format!("call pc{off:+}"),
        Insn::Call(CallTarget::Kfunc { btf_id, .. }) => format!("call kernel-function#{btf_id}"),
        // The kernel does not accept callx; this is the RFC 9669 meaning in the same style.
        Insn::Callx { dst } => format!("callx r{}", dst.num()),
        Insn::Exit => "exit".into(),
        Insn::LoadImm64 { dst, src, imm, next_imm } => {
            let name = |i: i32| ctx.maps.get(i as usize).map(|m| m.name.clone()).unwrap_or_else(|| format!("#{i}"));
            let what = match src {
                ImmSrc::Imm => format!("{:#x}", Insn::imm64(imm, next_imm)),
                ImmSrc::MapIdx => format!("map[{}]", name(imm)),
                ImmSrc::MapIdxValue => format!("map[{}][0]+{next_imm}", name(imm)),
                ImmSrc::MapFd => format!("map[fd:{imm}]"),
                ImmSrc::MapValue => format!("map[fd:{imm}][0]+{next_imm}"),
                ImmSrc::BtfId => format!("btf_id[{imm}]"),
                ImmSrc::Func => format!("func pc{imm:+}"),
            };
            format!("r{} = {what}", dst.num())
        }
        Insn::Load { size, signed, dst, src, off } => {
            let ty = if signed { size.c_stype() } else { size.c_type() };
            format!("r{} = *({ty} *)(r{} {off:+})", dst.num(), src.num())
        }
        Insn::Store { size, dst, off, src: Operand::Reg(s) } => {
            format!("*({} *)(r{} {off:+}) = r{}", size.c_type(), dst.num(), s.num())
        }
        Insn::Store { size, dst, off, src: Operand::Imm(i) } => {
            format!("*({} *)(r{} {off:+}) = {i}", size.c_type(), dst.num())
        }
        Insn::Atomic { size, op, fetch, dst, src, off } => {
            let bits = if size == Size::DW { "64" } else { "" };
            let ty = size.c_type();
            let (d, s) = (dst.num(), src.num());
            match op {
                AtomicOp::CmpXchg => format!("r0 = atomic{bits}_cmpxchg(({ty} *)(r{d} {off:+}), r0, r{s})"),
                AtomicOp::Xchg => format!("r{s} = atomic{bits}_xchg(({ty} *)(r{d} {off:+}), r{s})"),
                _ if fetch => format!("r{s} = atomic{bits}_fetch_{}(({ty} *)(r{d} {off:+}), r{s})", atomic_name(op)),
                _ => format!("lock *({ty} *)(r{d} {off:+}) {} r{s}", atomic_alu(op)),
            }
        }
        Insn::LegacyLoad { mode: LegacyMode::Abs, size, imm, .. } => format!("r0 = *({} *)skb[{imm}]", size.c_type()),
        Insn::LegacyLoad { mode: LegacyMode::Ind, size, src, imm } => {
            format!("r0 = *({} *)skb[r{} + {imm}]", size.c_type(), src.num())
        }
    }
}

/// A register's known value as the verifier log prints it (`verbose_snum` in kernel/bpf/log.c):
/// decimal within the signed 16-bit range, otherwise hex of the 64-bit pattern.
pub fn reg_value(v: u64) -> String {
    let s = v as i64;
    if (i16::MIN as i64..=i16::MAX as i64).contains(&s) {
        s.to_string()
    } else {
        format!("{v:#x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(text: &str) -> String {
        let p = crate::asm::assemble("t.s", text, Some(crate::asm::Syntax::Llvm)).expect("assembles");
        format_insn(&p.insns[0], &FormatCtx::default())
    }

    #[test]
    fn register_values_are_decimal_when_small() {
        assert_eq!(reg_value(16), "16");
        assert_eq!(reg_value(u64::MAX), "-1");
        assert_eq!(reg_value(32767), "32767");
        assert_eq!(reg_value(32768), "0x8000");
        assert_eq!(reg_value(-32769i64 as u64), "0xffffffffffff7fff");
    }

    #[test]
    fn the_kernels_spelling() {
        assert_eq!(f("r1 += 8"), "r1 += 8");
        assert_eq!(f("w1 += -1"), "w1 += -1");
        assert_eq!(f("r2 = (s8)r1"), "r2 = (s8)r1");
        assert_eq!(f("r0 s/= r2"), "r0 s/= r2");
        assert_eq!(f("r0 = *(u32 *)(r1 + 4)"), "r0 = *(u32 *)(r1 +4)");
        assert_eq!(f("*(u64 *)(r10 - 8) = r1"), "*(u64 *)(r10 -8) = r1");
        assert_eq!(f("*(u32 *)(r10 - 4) = 0"), "*(u32 *)(r10 -4) = 0");
        assert_eq!(f("if r1 != -1 goto +2"), "if r1 != 0xffffffff goto pc+2");
        assert_eq!(f("if w1 s< w2 goto -3"), "if w1 s< w2 goto pc-3");
        assert_eq!(f("call 1"), "call bpf_map_lookup_elem#1");
        assert_eq!(f("r1 = 0x1122334455667788 ll"), "r1 = 0x1122334455667788");
        assert_eq!(f("lock *(u64 *)(r10 - 8) += r1"), "lock *(u64 *)(r10 -8) += r1");
        assert_eq!(f("r0 = atomic_fetch_add((u64 *)(r10 - 8), r0)"), "r0 = atomic64_fetch_add((u64 *)(r10 -8), r0)");
        assert_eq!(f("r0 = cmpxchg_64(r10 - 8, r0, r1)"), "r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)");
        assert_eq!(f("r1 = be16 r1"), "r1 = be16 r1");
        assert_eq!(f("r1 = -r1"), "r1 = -r1");
        assert_eq!(f("gotol +5"), "gotol pc+5");
    }
}
