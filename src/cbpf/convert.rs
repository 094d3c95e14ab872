//! The kernel's classic-to-eBPF conversion (`bpf_convert_filter` in `net/core/filter.c`), as
//! rules, producing an ordinary ebpf-lab socket-filter [`Program`].
//!
//! - A lives in r0 and X in r7 (callee-saved, so helper calls and packet loads keep it); both
//!   start at 0. The context moves to r6, where `LD_ABS`/`LD_IND` look for it.
//! - `M[k]` is the 32-bit stack slot at `r10 - (4k + 4)`.
//! - `ld [k]`, `ld [x + k]` (all sizes) become eBPF `LD_ABS`/`LD_IND`: the same big-endian load
//!   that ends the program with 0 when out of bounds. The kernel itself lowers both forms to one
//!   inline sequence (`convert_bpf_ld_abs`, which needs the kernel-internal `sk_buff`), so the
//!   user-visible form is the legacy instruction.
//! - `ldxb 4*([k]&0xf)` becomes the kernel's six-instruction sequence around a byte load.
//! - Ancillary loads (`ld #proto`, `#len`, `#mark`...) read the matching `__sk_buff` field.
//! - ALU instructions map as they are (32-bit), with the kernel's guard in front of `div x` and
//!   `mod x`: a zero X returns 0.
//! - Conditional jumps: `jf == 0` gives one jump; `jt == 0` gives the inverse test (`jeq` →
//!   `jne`, `jgt` → `jle`, `jge` → `jlt`); otherwise a jump and a `ja`. A negative `k` is moved
//!   to r2 with a 32-bit mov first, because eBPF immediates are sign-extended.
//! - `ret #k` is `w0 = k; exit`; `ret a` is `exit`.
//!
//! Before converting, the program passes the classic checker's rules (`bpf_check_classic`):
//! known opcodes, jumps inside the program, `M[k]` with k < 16, written before read on every
//! path, no division by a constant zero, no shift by 32 or more, a `ret` at the end.

use super::insn::{class, mode, ClassicInsn};
use crate::isa::{self, RawInsn};
use crate::program::{ProgType, Program};
use crate::runtime::ctx::ctx_layout;
use std::ops::Range;

/// The kernel's limit on classic program length (`BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;
/// Scratch memory words (`BPF_MEMWORDS`).
pub const MEMWORDS: u32 = 16;

const A: u8 = 0;
const TMP: u8 = 2;
const CTX: u8 = 6;
const X: u8 = 7;
const FP: u8 = 10;

/// The result of a conversion.
#[derive(Clone, Debug)]
pub struct Converted {
    /// The eBPF program (type `socket`).
    pub program: Program,
    /// The prologue's instructions (indices into `program.insns`).
    pub prologue: Range<usize>,
    /// For each classic instruction, the eBPF instructions it became.
    pub blocks: Vec<Range<usize>>,
}

/// Why a classic program was refused, and which instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvertError {
    /// The classic instruction's index.
    pub index: usize,
    /// What is wrong.
    pub message: String,
}

fn fail<T>(index: usize, message: impl Into<String>) -> Result<T, ConvertError> {
    Err(ConvertError { index, message: message.into() })
}

/// One eBPF instruction being built; `target` is a classic instruction to jump to.
#[derive(Clone, Copy)]
struct Emit {
    raw: RawInsn,
    target: Option<usize>,
}

fn raw(opcode: u8, dst: u8, src: u8, off: i16, imm: i32) -> Emit {
    Emit { raw: RawInsn { opcode, dst, src, off, imm }, target: None }
}

fn jump(opcode: u8, dst: u8, src: u8, imm: i32, target: usize) -> Emit {
    Emit { target: Some(target), ..raw(opcode, dst, src, 0, imm) }
}

const EXIT: u8 = 0x95;
const MOV64_X: u8 = 0xbf;
const MOV32_K: u8 = 0xb4;
const MOV32_X: u8 = 0xbc;
const XOR32_X: u8 = 0xac;
const LDX_W: u8 = 0x61;
const STX_W: u8 = 0x63;
const JA: u8 = 0x05;
const JNE_K: u8 = 0x55;
const CALL: u8 = 0x85;
const TO_BE: u8 = 0xdc;

/// Checks `prog` with the classic checker's rules, then converts it.
pub fn convert(prog: &[ClassicInsn]) -> Result<Converted, ConvertError> {
    check(prog)?;
    // The kernel clears A and X with `xor`; its converted program skips the verifier, which
    // refuses to read an unset register even to clear it, so a user-loadable program moves 0.
    let mut insns: Vec<Emit> = vec![raw(MOV32_K, A, 0, 0, 0), raw(MOV32_K, X, 0, 0, 0), raw(MOV64_X, CTX, 1, 0, 0)];
    let prologue = 0..insns.len();
    let mut blocks = Vec::with_capacity(prog.len());
    for (i, c) in prog.iter().enumerate() {
        let start = insns.len();
        insns.extend(block(i, c)?);
        blocks.push(start..insns.len());
    }
    // Resolve jumps: the offset counts from the instruction after the jump.
    let mut out = Vec::with_capacity(insns.len());
    for (pc, e) in insns.iter().enumerate() {
        let mut r = e.raw;
        if let Some(t) = e.target {
            let off = blocks[t].start as i64 - pc as i64 - 1;
            r.off = i16::try_from(off).or(fail(t, "a jump this far does not fit eBPF's 16-bit offset"))?;
        }
        out.push(isa::decode_one(r, None).expect("the conversion emits valid instructions"));
    }
    let program = Program { insns: out, prog_type: ProgType::Socket, ..Program::default() };
    Ok(Converted { program, prologue, blocks })
}

/// The `__sk_buff` offset of `field`, from the one context table.
fn skb(field: &str) -> i16 {
    let layout = ctx_layout(ProgType::Socket).expect("socket programs have a context");
    layout.field(field).expect("__sk_buff field").offset as i16
}

fn helper(name: &str) -> i32 {
    crate::runtime::helpers::helper_by_name(name).expect("helper in the table").id as i32
}

/// The eBPF instructions for classic instruction `i`.
fn block(i: usize, c: &ClassicInsn) -> Result<Vec<Emit>, ConvertError> {
    let code = c.code;
    let k = c.k as i32;
    let op8 = code as u8;
    let mut v = Vec::new();
    match c.class() {
        class::ALU => {
            let op = code & 0xf0;
            if code & 0x08 != 0 && (op == 0x30 || op == 0x90) {
                // div x / mod x: a zero X makes the filter return 0.
                v.push(raw(MOV32_X, X, X, 0, 0));
                v.push(raw(JNE_K, X, 0, 2, 0));
                v.push(raw(XOR32_X, A, A, 0, 0));
                v.push(raw(EXIT, 0, 0, 0, 0));
            }
            let src = if code & 0x08 != 0 { X } else { 0 };
            v.push(raw(op8, A, src, 0, if src == X { 0 } else { k }));
        }
        class::LD | class::LDX => {
            let dst = if c.class() == class::LD { A } else { X };
            match code & 0xe0 {
                mode::IMM => v.push(raw(MOV32_K, dst, 0, 0, k)),
                mode::LEN => v.push(raw(LDX_W, dst, CTX, skb("len"), 0)),
                mode::MEM => v.push(raw(LDX_W, dst, FP, -(4 * k + 4) as i16, 0)),
                mode::MSH => {
                    v.push(raw(MOV64_X, X, A, 0, 0));
                    v.push(raw(0x30, 0, 0, 0, k)); // LD_ABS B: r0 = P[k]
                    v.push(raw(0x54, A, 0, 0, 0xf));
                    v.push(raw(0x64, A, 0, 0, 2));
                    v.push(raw(MOV64_X, TMP, X, 0, 0));
                    v.push(raw(MOV64_X, X, A, 0, 0));
                    v.push(raw(MOV64_X, A, TMP, 0, 0));
                }
                mode::IND => v.push(raw(op8, 0, X, 0, k)),
                _ => match c.extension() {
                    Some((name, _)) => v.extend(extension(i, name)?),
                    None => v.push(raw(op8, 0, 0, 0, k)),
                },
            }
        }
        class::ST | class::STX => {
            let src = if c.class() == class::ST { A } else { X };
            v.push(raw(STX_W, FP, src, -(4 * k + 4) as i16, 0));
        }
        class::RET => {
            if code & 0x18 == 0 {
                v.push(raw(MOV32_K, A, 0, 0, k));
            }
            v.push(raw(EXIT, 0, 0, 0, 0));
        }
        class::MISC => {
            if code & 0xf8 == 0 {
                v.push(raw(MOV64_X, X, A, 0, 0));
            } else {
                v.push(raw(MOV64_X, A, X, 0, 0));
            }
        }
        _ => {
            let op = code & 0xf0;
            if op == 0 {
                v.push(jump(JA, 0, 0, 0, i + 1 + c.k as usize));
                return Ok(v);
            }
            let (src_mode, src, imm) = if code & 0x08 == 0 && k < 0 {
                // eBPF sign-extends immediates: compare with the zero-extended value in r2.
                v.push(raw(MOV32_K, TMP, 0, 0, k));
                (0x08u8, TMP, 0)
            } else if code & 0x08 != 0 {
                (0x08, X, 0)
            } else {
                (0, 0, k)
            };
            let jt = i + 1 + c.jt as usize;
            let jf = i + 1 + c.jf as usize;
            let cond = |op: u16| 0x05 | op as u8 | src_mode;
            if c.jf == 0 {
                v.push(jump(cond(op), A, src, imm, jt));
            } else if c.jt == 0 && matches!(op, 0x10 | 0x20 | 0x30) {
                let inverse = match op {
                    0x10 => 0x50, // jeq -> jne
                    0x20 => 0xb0, // jgt -> jle
                    _ => 0xa0,    // jge -> jlt
                };
                v.push(jump(cond(inverse), A, src, imm, jf));
            } else {
                v.push(jump(cond(op), A, src, imm, jt));
                v.push(jump(JA, 0, 0, 0, jf));
            }
        }
    }
    Ok(v)
}

/// `ld #name`: the ancillary value, read from `__sk_buff` or a helper.
fn extension(i: usize, name: &str) -> Result<Vec<Emit>, ConvertError> {
    let field = |f: &str| raw(LDX_W, A, CTX, skb(f), 0);
    Ok(match name {
        "proto" => vec![field("protocol"), raw(TO_BE, A, 0, 0, 16)],
        "type" => vec![field("pkt_type")],
        "ifidx" => vec![field("ifindex")],
        "mark" => vec![field("mark")],
        "queue" => vec![field("queue_mapping")],
        "rxhash" => vec![field("hash")],
        "vlan_tci" => vec![field("vlan_tci")],
        "vlan_avail" => vec![field("vlan_present")],
        "vlan_tpid" => vec![field("vlan_proto"), raw(TO_BE, A, 0, 0, 16)],
        "cpu" => vec![raw(CALL, 0, 0, 0, helper("get_smp_processor_id"))],
        "rand" => vec![raw(CALL, 0, 0, 0, helper("get_prandom_u32"))],
        other => {
            return fail(
                i,
                format!("`ld #{other}` reads kernel data a socket filter's __sk_buff does not expose (hatype, netlink attributes, payload offset)"),
            )
        }
    })
}

/// The classic checker's rules (`bpf_check_classic` and `check_load_and_stores`).
pub fn check(prog: &[ClassicInsn]) -> Result<(), ConvertError> {
    if prog.is_empty() || prog.len() > MAX_INSNS {
        return fail(0, format!("a classic program has 1 to {MAX_INSNS} instructions, this one {}", prog.len()));
    }
    let len = prog.len();
    for (i, c) in prog.iter().enumerate() {
        let code = c.code;
        let known = match c.class() {
            class::LD => match code & 0xe0 {
                mode::IMM | mode::MEM => code & 0x18 == 0,
                mode::LEN => code & 0x18 == 0,
                mode::ABS | mode::IND => code & 0x18 != 0x18,
                _ => false,
            },
            class::LDX => matches!(code & 0xf8, 0x00 | 0x60 | 0x80 | 0xb0),
            class::ST | class::STX => code & 0xf8 == 0,
            class::ALU => match code & 0xf0 {
                0x80 => code & 0x08 == 0,
                0xb0..=0xf0 => false,
                _ => true,
            },
            class::JMP => code & 0xf0 <= 0x40 && (code & 0xf0 != 0 || code & 0x08 == 0),
            class::RET => matches!(code & 0xf8, 0x00 | 0x10),
            _ => matches!(code & 0xf8, 0x00 | 0x80),
        };
        if !known || code > 0xff {
            return fail(i, format!("opcode {code:#x} is not a classic BPF instruction the kernel accepts"));
        }
        let is_mem = matches!(c.class(), class::ST | class::STX)
            || (matches!(c.class(), class::LD | class::LDX) && code & 0xe0 == mode::MEM);
        if is_mem && c.k >= MEMWORDS {
            return fail(i, format!("M[{}] is outside the 16 words of scratch memory", c.k));
        }
        if c.class() == class::ALU && code & 0x08 == 0 {
            match code & 0xf0 {
                0x30 | 0x90 if c.k == 0 => return fail(i, "division by the constant 0"),
                0x60 | 0x70 if c.k >= 32 => return fail(i, format!("a shift by {} (32 or more)", c.k)),
                _ => {}
            }
        }
        if c.class() == class::JMP {
            let targets: Vec<u64> = if code & 0xf0 == 0 {
                vec![i as u64 + 1 + c.k as u64]
            } else {
                vec![(i + 1 + c.jt as usize) as u64, (i + 1 + c.jf as usize) as u64]
            };
            if targets.iter().any(|&t| t >= len as u64) {
                return fail(i, "the jump lands past the last instruction");
            }
        }
    }
    if prog[len - 1].class() != class::RET {
        return fail(len - 1, "a classic program must end with `ret`");
    }
    check_load_and_stores(prog)
}

/// Every `M[k]` read must follow a write on every path that reaches it.
fn check_load_and_stores(prog: &[ClassicInsn]) -> Result<(), ConvertError> {
    const ALL: u16 = 0xffff;
    let mut masks = vec![ALL; prog.len()];
    masks[0] = 0;
    let mut valid = 0u16;
    for (i, c) in prog.iter().enumerate() {
        valid &= masks[i];
        match c.class() {
            class::ST | class::STX => valid |= 1 << c.k,
            class::LD | class::LDX if c.code & 0xe0 == mode::MEM && valid & (1 << c.k) == 0 => {
                return fail(i, format!("M[{}] is read before anything is stored in it", c.k));
            }
            class::JMP => {
                if c.code & 0xf0 == 0 {
                    masks[i + 1 + c.k as usize] &= valid;
                } else {
                    masks[i + 1 + c.jt as usize] &= valid;
                    masks[i + 1 + c.jf as usize] &= valid;
                }
                valid = ALL;
            }
            class::RET => valid = ALL,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cbpf::parse;

    fn conv(src: &str) -> Result<Converted, ConvertError> {
        let p: Vec<ClassicInsn> = parse(src).unwrap().into_iter().map(|(i, _)| i).collect();
        convert(&p)
    }

    #[test]
    fn jumps_follow_the_kernel_rules() {
        let c = conv("ldh [12]\njeq #0x800, yes, no\nyes: ret #-1\nno: ret #0\n").unwrap();
        let text: Vec<String> = c.program.insns.iter().map(|i| format!("{i:?}")).collect();
        // jt = 0 (the next instruction), jf = 1: one inverse test, `jne` to `no`.
        assert_eq!(c.blocks[1].len(), 1);
        assert!(text[c.blocks[1].start].contains("Ne"), "{text:?}");
        // ret #-1: w0 = -1; exit.
        assert_eq!(c.blocks[2].len(), 2);
    }

    #[test]
    fn the_checker_refuses_what_the_kernel_refuses() {
        assert!(conv("ld M[0]\nret a\n").unwrap_err().message.contains("read before"));
        assert!(conv("div #0\nret a\n").unwrap_err().message.contains("constant 0"));
        assert!(conv("ld #1\n").unwrap_err().message.contains("end with `ret`"));
        assert!(conv("st M[16]\nret a\n").unwrap_err().message.contains("16 words"));
        assert!(conv("ld #nla\nret a\n").unwrap_err().message.contains("does not expose"));
        assert!(conv("st M[3]\nld M[3]\nret a\n").is_ok());
    }
}
