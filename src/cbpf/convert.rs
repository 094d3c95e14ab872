//! Classic BPF to eBPF, by the kernel's rules (`bpf_convert_filter` in `net/core/filter.c`):
//! A lives in r0 and X in r7 (32-bit values, so ALU operations are 32-bit), the context stays
//! in r6, `M[k]` is the stack word at `r10 - (4k + 4)`, and a program starts by zeroing A and X
//! (with `w0 = 0` where the kernel, which does not verify these programs, writes `w0 ^= w0`).
//! Packet loads `ld [k]` / `ld [x + k]` become eBPF's legacy `LD_ABS` / `LD_IND` loads (the
//! kernel may inline them further; the meaning is the same), `ld #len` reads `__sk_buff.len`.
//! Jumps keep their targets: a classic instruction expands to one or more eBPF instructions
//! and every offset is recomputed.

use super::{op, ClassicInsn};
use crate::isa::{BinOp, Insn, JmpCond, LegacyMode, Operand, Reg, Size, Width};

/// The converted program, with the eBPF range each classic instruction became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Converted {
    /// The eBPF instructions, prologue first.
    pub insns: Vec<Insn>,
    /// The prologue's length (zero A and X, keep the context in r6).
    pub prologue: usize,
    /// For classic instruction `i`, the eBPF instructions `ranges[i]`.
    pub ranges: Vec<std::ops::Range<usize>>,
}

fn reg(n: u8) -> Reg {
    Reg::new(n).expect("a register number below 11")
}

const A: u8 = 0;
const X: u8 = 7;
const CTX: u8 = 6;
/// The kernel's `BPF_REG_TMP`.
const TMP: u8 = 2;

fn alu32(op: BinOp, dst: u8, src: Operand) -> Insn {
    Insn::Bin { width: Width::W32, op, dst: reg(dst), src }
}

fn mov64(dst: u8, src: u8) -> Insn {
    Insn::Bin { width: Width::W64, op: BinOp::Mov, dst: reg(dst), src: Operand::Reg(reg(src)) }
}

fn size_of(code: u16) -> Size {
    match code & 0x18 {
        op::H => Size::H,
        op::B => Size::B,
        _ => Size::W,
    }
}

/// The stack offset of scratch word `M[k]`.
fn mem_off(k: u32) -> i16 {
    -((k as i16) * 4 + 4)
}

/// A jump to be resolved: the eBPF instruction's index in the expansion and its classic target.
type Fixup = (usize, usize);

/// Expands one classic instruction (`at` is its index), leaving jump offsets to fix up.
fn expand(c: ClassicInsn, at: usize, len: usize) -> Result<(Vec<Insn>, Vec<Fixup>), String> {
    let k = c.k;
    let target = |off: u32| -> Result<usize, String> {
        let t = at + 1 + off as usize;
        if t >= len {
            return Err(format!("jumps to {t}, past the last instruction ({})", len - 1));
        }
        Ok(t)
    };
    let mut out = Vec::new();
    let mut fix = Vec::new();
    match c.class() {
        op::ALU => {
            let name = op::ALU_OPS.iter().find(|(o, _)| *o == c.code & 0xf0).map(|(_, n)| *n);
            let bin = match name {
                Some("add") => BinOp::Add,
                Some("sub") => BinOp::Sub,
                Some("mul") => BinOp::Mul,
                Some("div") => BinOp::Div,
                Some("mod") => BinOp::Mod,
                Some("or") => BinOp::Or,
                Some("and") => BinOp::And,
                Some("lsh") => BinOp::Lsh,
                Some("rsh") => BinOp::Rsh,
                Some("xor") => BinOp::Xor,
                Some("neg") => {
                    out.push(Insn::Neg { width: Width::W32, dst: reg(A) });
                    return Ok((out, fix));
                }
                _ => return Err(format!("unknown ALU opcode {:#06x}", c.code)),
            };
            let by_x = c.code & op::X != 0;
            if !by_x && matches!(bin, BinOp::Div | BinOp::Mod) && k == 0 {
                return Err("division by the constant 0 (the kernel refuses it)".into());
            }
            if !by_x && matches!(bin, BinOp::Lsh | BinOp::Rsh) && k >= 32 {
                return Err("a shift by 32 or more (the kernel refuses it)".into());
            }
            if by_x && matches!(bin, BinOp::Div | BinOp::Mod) {
                // Classic BPF returns 0 on a division by zero: the kernel checks X first.
                out.push(alu32(BinOp::Mov, X, Operand::Reg(reg(X))));
                out.push(Insn::Jmp { width: Width::W64, cond: JmpCond::Ne, dst: reg(X), src: Operand::Imm(0), off: 2 });
                out.push(alu32(BinOp::Xor, A, Operand::Reg(reg(A))));
                out.push(Insn::Exit);
            }
            out.push(alu32(bin, A, if by_x { Operand::Reg(reg(X)) } else { Operand::Imm(k as i32) }));
        }
        op::LD | op::LDX => {
            let dst = if c.class() == op::LD { A } else { X };
            match (c.class(), c.code & 0xe0) {
                (_, op::IMM) => out.push(alu32(BinOp::Mov, dst, Operand::Imm(k as i32))),
                (_, op::MEM) if k < 16 => {
                    out.push(Insn::Load { size: Size::W, signed: false, dst: reg(dst), src: Reg::R10, off: mem_off(k) })
                }
                (_, op::LEN) => {
                    out.push(Insn::Load { size: Size::W, signed: false, dst: reg(dst), src: reg(CTX), off: 0 })
                }
                (op::LD, op::ABS) | (op::LD, op::IND) if (k as i32) < 0 => {
                    return Err(format!("ancillary load [{:#x}] (SKF_AD_*/SKF_NET_OFF) is not supported", k as i32))
                }
                (op::LD, op::ABS) => out.push(Insn::LegacyLoad {
                    mode: LegacyMode::Abs,
                    size: size_of(c.code),
                    src: reg(0),
                    imm: k as i32,
                }),
                (op::LD, op::IND) => out.push(Insn::LegacyLoad {
                    mode: LegacyMode::Ind,
                    size: size_of(c.code),
                    src: reg(X),
                    imm: k as i32,
                }),
                (op::LDX, op::MSH) if c.code & 0x18 == op::B => {
                    // X = 4 * ([k] & 0xf), A unchanged: the kernel's six instructions.
                    out.push(mov64(X, A));
                    out.push(Insn::LegacyLoad { mode: LegacyMode::Abs, size: Size::B, src: reg(0), imm: k as i32 });
                    out.push(alu32(BinOp::And, A, Operand::Imm(0xf)));
                    out.push(alu32(BinOp::Lsh, A, Operand::Imm(2)));
                    out.push(mov64(TMP, X));
                    out.push(mov64(X, A));
                    out.push(mov64(A, TMP));
                }
                _ => return Err(format!("unknown or unsupported load {:#06x} (k = {k})", c.code)),
            }
        }
        op::ST | op::STX if k < 16 => {
            let src = if c.class() == op::ST { A } else { X };
            out.push(Insn::Store { size: Size::W, dst: Reg::R10, off: mem_off(k), src: Operand::Reg(reg(src)) });
        }
        op::RET => match c.code & 0x18 {
            op::K => {
                out.push(alu32(BinOp::Mov, A, Operand::Imm(k as i32)));
                out.push(Insn::Exit);
            }
            op::A => out.push(Insn::Exit),
            _ => return Err("`ret x` is not classic BPF the kernel accepts".into()),
        },
        op::MISC => match c.code & 0xf8 {
            op::TAX => out.push(mov64(X, A)),
            op::TXA => out.push(mov64(A, X)),
            _ => return Err(format!("unknown MISC opcode {:#06x}", c.code)),
        },
        op::JMP => {
            let name = op::JMP_OPS.iter().find(|(o, _)| *o == c.code & 0xf0).map(|(_, n)| *n);
            if name == Some("ja") {
                fix.push((0, target(k)?));
                out.push(Insn::Ja { off: 0, long: false });
                return Ok((out, fix));
            }
            let cond = match name {
                Some("jeq") => JmpCond::Eq,
                Some("jgt") => JmpCond::Gt,
                Some("jge") => JmpCond::Ge,
                Some("jset") => JmpCond::Set,
                _ => return Err(format!("unknown jump opcode {:#06x}", c.code)),
            };
            let src = if c.code & op::X != 0 {
                Operand::Reg(reg(X))
            } else if (k as i32) < 0 {
                // eBPF immediates are sign-extended: the kernel compares with a register instead.
                out.push(alu32(BinOp::Mov, TMP, Operand::Imm(k as i32)));
                Operand::Reg(reg(TMP))
            } else {
                Operand::Imm(k as i32)
            };
            let jmp = |cond| Insn::Jmp { width: Width::W64, cond, dst: reg(A), src, off: 0 };
            let (jt, jf) = (target(c.jt.into())?, target(c.jf.into())?);
            let inverse = match cond {
                JmpCond::Eq => Some(JmpCond::Ne),
                JmpCond::Gt => Some(JmpCond::Le),
                JmpCond::Ge => Some(JmpCond::Lt),
                _ => None,
            };
            if c.jf == 0 {
                fix.push((out.len(), jt));
                out.push(jmp(cond));
            } else if let (0, Some(inv)) = (c.jt, inverse) {
                fix.push((out.len(), jf));
                out.push(jmp(inv));
            } else {
                fix.push((out.len(), jt));
                out.push(jmp(cond));
                fix.push((out.len(), jf));
                out.push(Insn::Ja { off: 0, long: false });
            }
        }
        _ => return Err(format!("unknown or unsupported instruction {:#06x} (k = {k})", c.code)),
    }
    Ok((out, fix))
}

/// Converts a classic program; an error names the classic instruction and why.
pub fn convert(classic: &[ClassicInsn]) -> Result<Converted, (usize, String)> {
    if classic.is_empty() || classic.len() > 4096 {
        return Err((0, format!("a classic program has 1 to 4096 instructions, this one {}", classic.len())));
    }
    // The kernel zeroes A and X with `w0 ^= w0` and `w7 ^= w7`; its converted classic programs
    // skip the verifier, which would refuse those reads of unset registers. `w0 = 0` does the
    // same and loads as eBPF.
    let mut insns = vec![alu32(BinOp::Mov, A, Operand::Imm(0)), alu32(BinOp::Mov, X, Operand::Imm(0)), mov64(CTX, 1)];
    let prologue = insns.len();
    let mut ranges = Vec::new();
    let mut fixups = Vec::new();
    for (i, c) in classic.iter().enumerate() {
        let (expanded, fix) = expand(*c, i, classic.len()).map_err(|e| (i, e))?;
        let start = insns.len();
        fixups.extend(fix.into_iter().map(|(at, to)| (start + at, to)));
        insns.extend(expanded);
        ranges.push(start..insns.len());
    }
    if classic[classic.len() - 1].class() != op::RET {
        return Err((classic.len() - 1, "a classic program ends with `ret` (the kernel refuses it otherwise)".into()));
    }
    for (at, to) in fixups {
        let off = ranges[to].start as i64 - at as i64 - 1;
        insns[at] = insns[at].with_branch_offset(off).ok_or((0, "a jump too far for eBPF".to_string()))?;
    }
    Ok(Converted { insns, prologue, ranges })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_and_udp_becomes_what_the_kernel_makes() {
        let c = super::super::parse("{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 3, 0x00000800 },\n{ 0x30, 0, 0, 0x00000017 },\n{ 0x15, 0, 1, 0x00000011 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },\n").unwrap();
        let conv = convert(&c.insns).unwrap();
        let text: Vec<String> = conv
            .insns
            .iter()
            .map(|i| crate::asm::disasm::format_insn(i, crate::asm::Syntax::Llvm, &Default::default()))
            .collect();
        assert_eq!(
            text,
            [
                "w0 = 0x0",
                "w7 = 0x0",
                "r6 = r1",
                "r0 = *(u16 *)skb[0xc]",
                "if r0 != 0x800 goto +0x4",
                "r0 = *(u8 *)skb[0x17]",
                "if r0 != 0x11 goto +0x2",
                "w0 = 0x40000",
                "exit",
                "w0 = 0x0",
                "exit",
            ]
        );
        assert_eq!(conv.ranges[1], 4..5);
        assert_eq!(conv.ranges[4], 7..9);
    }

    #[test]
    fn division_by_x_returns_zero_first_and_big_constants_go_through_tmp() {
        let prog = [
            ClassicInsn { code: op::ALU | 0x30 | op::X, jt: 0, jf: 0, k: 0 },
            ClassicInsn { code: op::JMP | 0x10, jt: 0, jf: 1, k: 0xffff_fff0 },
            ClassicInsn { code: op::RET | op::A, jt: 0, jf: 0, k: 0 },
            ClassicInsn { code: op::RET | op::K, jt: 0, jf: 0, k: 0 },
        ];
        let conv = convert(&prog).unwrap();
        assert_eq!(conv.ranges[0].len(), 5, "mov, check, zero A, exit, div");
        assert!(matches!(conv.insns[conv.ranges[1].start], Insn::Bin { op: BinOp::Mov, .. }));
        assert_eq!(convert(&prog[..1]).unwrap_err().0, 0);
        let bad = [ClassicInsn { code: op::JMP | 0x10, jt: 5, jf: 0, k: 1 }, prog[3]];
        assert!(convert(&bad).unwrap_err().1.contains("past the last instruction"));
    }
}
