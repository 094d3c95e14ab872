//! Decoding bytecode into [`Insn`] and encoding it back.
//!
//! Decoding rejects what the kernel rejects structurally (unknown opcodes, non-zero reserved
//! fields, a half `lddw`, bad register numbers), with the kernel verifier's own wording where it
//! has one, so the message a student sees here is the one `bpf(2)` would log.

use super::insn::*;
use super::opcode::{self, alu, class, jmp, mode, size, source};
use std::fmt;

/// One raw 8-byte instruction slot, as laid out in memory (little endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct RawInsn {
    /// Opcode byte.
    pub opcode: u8,
    /// Destination register field (low nibble of byte 1).
    pub dst: u8,
    /// Source register field (high nibble of byte 1).
    pub src: u8,
    /// Signed 16-bit offset.
    pub off: i16,
    /// Signed 32-bit immediate.
    pub imm: i32,
}

impl RawInsn {
    /// Decodes the little-endian 8-byte form.
    pub fn from_bytes(b: [u8; 8]) -> RawInsn {
        RawInsn {
            opcode: b[0],
            dst: b[1] & 0x0f,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// The little-endian 8-byte form.
    pub fn to_bytes(self) -> [u8; 8] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [self.opcode, (self.dst & 0x0f) | (self.src << 4), off[0], off[1], imm[0], imm[1], imm[2], imm[3]]
    }

    /// The slot as one little-endian 64-bit word (the conformance suite's `-- raw` form).
    pub fn to_u64(self) -> u64 {
        u64::from_le_bytes(self.to_bytes())
    }
}

/// What is structurally wrong with an instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    /// The opcode byte is not an eBPF instruction.
    UnknownOpcode(u8),
    /// A field the instruction does not use is not zero (or holds a value it may not).
    ReservedField {
        /// The kernel's name for the instruction family, e.g. `BPF_ALU`, `BPF_JA`.
        family: &'static str,
        /// The offending field (`dst`, `src`, `off`, `imm`).
        field: &'static str,
    },
    /// A register field names a register above r10.
    BadRegister(u8),
    /// `lddw` is the last slot, or its second slot is not all zero apart from `imm`.
    HalfLoadImm64,
    /// `lddw` with a pseudo source the kernel does not know.
    BadPseudoSource(u8),
    /// The byte length is not a multiple of 8.
    TrailingBytes(usize),
}

/// A structural error at one slot of the bytecode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Slot index (the kernel's instruction index).
    pub pc: usize,
    /// What is wrong.
    pub kind: DecodeErrorKind,
}

impl fmt::Display for DecodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeErrorKind::UnknownOpcode(op) => write!(f, "unknown opcode {op:#04x}"),
            DecodeErrorKind::ReservedField { family, field } => {
                write!(f, "{family} uses reserved fields (`{field}` must be zero or a defined value)")
            }
            DecodeErrorKind::BadRegister(r) => write!(f, "R{r} is invalid"),
            DecodeErrorKind::HalfLoadImm64 => write!(f, "invalid bpf_ld_imm64 insn"),
            DecodeErrorKind::BadPseudoSource(s) => {
                write!(f, "unrecognized bpf_ld_imm64 insn (pseudo source {s})")
            }
            DecodeErrorKind::TrailingBytes(n) => {
                write!(f, "bytecode length is not a multiple of 8 ({n} trailing bytes)")
            }
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "insn {}: {}", self.pc, self.kind)
    }
}

impl std::error::Error for DecodeError {}

fn reserved(family: &'static str, field: &'static str) -> DecodeErrorKind {
    DecodeErrorKind::ReservedField { family, field }
}

fn reg(n: u8) -> Result<Reg, DecodeErrorKind> {
    Reg::new(n).ok_or(DecodeErrorKind::BadRegister(n))
}

fn size_of(code: u8) -> Size {
    match code & 0x18 {
        size::W => Size::W,
        size::H => Size::H,
        size::B => Size::B,
        _ => Size::DW,
    }
}

fn size_bits(s: Size) -> u8 {
    match s {
        Size::W => size::W,
        Size::H => size::H,
        Size::B => size::B,
        Size::DW => size::DW,
    }
}

/// Checks that the fields an instruction leaves unused are zero.
fn zero(family: &'static str, field: &'static str, value: i64) -> Result<(), DecodeErrorKind> {
    if value == 0 {
        Ok(())
    } else {
        Err(reserved(family, field))
    }
}

/// Decodes one instruction from its first slot and, for `lddw`, its second.
pub fn decode_one(raw: RawInsn, next: Option<RawInsn>) -> Result<Insn, DecodeErrorKind> {
    let code = raw.opcode;
    match opcode::class_of(code) {
        class::ALU | class::ALU64 => decode_alu(raw),
        class::JMP | class::JMP32 => decode_jmp(raw),
        class::LDX => {
            let signed = match code & 0xe0 {
                mode::MEM => false,
                mode::MEMSX if code & 0x18 != size::DW => true,
                _ => return Err(DecodeErrorKind::UnknownOpcode(code)),
            };
            zero("BPF_LDX", "imm", raw.imm as i64)?;
            Ok(Insn::Load { size: size_of(code), signed, dst: reg(raw.dst)?, src: reg(raw.src)?, off: raw.off })
        }
        class::ST => {
            if code & 0xe0 != mode::MEM {
                return Err(DecodeErrorKind::UnknownOpcode(code));
            }
            zero("BPF_ST", "src", raw.src as i64)?;
            Ok(Insn::Store { size: size_of(code), dst: reg(raw.dst)?, off: raw.off, src: Operand::Imm(raw.imm) })
        }
        class::STX => match code & 0xe0 {
            mode::MEM => {
                zero("BPF_STX", "imm", raw.imm as i64)?;
                Ok(Insn::Store {
                    size: size_of(code),
                    dst: reg(raw.dst)?,
                    off: raw.off,
                    src: Operand::Reg(reg(raw.src)?),
                })
            }
            mode::ATOMIC if matches!(code & 0x18, size::W | size::DW) => {
                use super::opcode::atomic as a;
                let (op, fetch) = match raw.imm {
                    a::ADD => (AtomicOp::Add, false),
                    a::OR => (AtomicOp::Or, false),
                    a::AND => (AtomicOp::And, false),
                    a::XOR => (AtomicOp::Xor, false),
                    x if x == a::ADD | a::FETCH => (AtomicOp::Add, true),
                    x if x == a::OR | a::FETCH => (AtomicOp::Or, true),
                    x if x == a::AND | a::FETCH => (AtomicOp::And, true),
                    x if x == a::XOR | a::FETCH => (AtomicOp::Xor, true),
                    a::XCHG => (AtomicOp::Xchg, true),
                    a::CMPXCHG => (AtomicOp::CmpXchg, true),
                    _ => return Err(reserved("BPF_ATOMIC", "imm")),
                };
                Ok(Insn::Atomic { size: size_of(code), op, fetch, dst: reg(raw.dst)?, src: reg(raw.src)?, off: raw.off })
            }
            _ => Err(DecodeErrorKind::UnknownOpcode(code)),
        },
        _ /* LD */ => match code & 0xe0 {
            mode::IMM if code & 0x18 == size::DW => {
                let next = next.ok_or(DecodeErrorKind::HalfLoadImm64)?;
                if next.opcode != 0 || next.dst != 0 || next.src != 0 || next.off != 0 {
                    return Err(DecodeErrorKind::HalfLoadImm64);
                }
                zero("BPF_LD_IMM64", "off", raw.off as i64)?;
                let src = ImmSrc::from_code(raw.src).ok_or(DecodeErrorKind::BadPseudoSource(raw.src))?;
                Ok(Insn::LoadImm64 { dst: reg(raw.dst)?, src, imm: raw.imm, next_imm: next.imm })
            }
            m @ (mode::ABS | mode::IND) if code & 0x18 != size::DW => {
                zero("BPF_LD_[ABS|IND]", "dst", raw.dst as i64)?;
                zero("BPF_LD_[ABS|IND]", "off", raw.off as i64)?;
                let mode = if m == mode::ABS {
                    zero("BPF_LD_[ABS|IND]", "src", raw.src as i64)?;
                    LegacyMode::Abs
                } else {
                    LegacyMode::Ind
                };
                Ok(Insn::LegacyLoad { mode, size: size_of(code), src: reg(raw.src)?, imm: raw.imm })
            }
            _ => Err(DecodeErrorKind::UnknownOpcode(code)),
        },
    }
}

fn decode_alu(raw: RawInsn) -> Result<Insn, DecodeErrorKind> {
    let code = raw.opcode;
    let width = if opcode::class_of(code) == class::ALU64 { Width::W64 } else { Width::W32 };
    let is_x = code & source::X != 0;
    let dst = reg(raw.dst)?;
    let op = code & 0xf0;
    match op {
        alu::NEG => {
            if is_x {
                return Err(DecodeErrorKind::UnknownOpcode(code));
            }
            zero("BPF_NEG", "src", raw.src as i64)?;
            zero("BPF_NEG", "off", raw.off as i64)?;
            zero("BPF_NEG", "imm", raw.imm as i64)?;
            Ok(Insn::Neg { width, dst })
        }
        alu::END => {
            zero("BPF_END", "src", raw.src as i64)?;
            zero("BPF_END", "off", raw.off as i64)?;
            if !matches!(raw.imm, 16 | 32 | 64) {
                return Err(reserved("BPF_END", "imm"));
            }
            let op = match (width, is_x) {
                (Width::W32, false) => EndianOp::ToLe,
                (Width::W32, true) => EndianOp::ToBe,
                (Width::W64, false) => EndianOp::Swap,
                (Width::W64, true) => return Err(DecodeErrorKind::UnknownOpcode(code)),
            };
            Ok(Insn::Endian { op, bits: raw.imm as u32, dst })
        }
        alu::MOV => {
            let bin = if is_x {
                zero("BPF_MOV", "imm", raw.imm as i64)?;
                match (raw.off, width) {
                    (0, _) => BinOp::Mov,
                    (8, _) => BinOp::MovSx8,
                    (16, _) => BinOp::MovSx16,
                    (32, Width::W64) => BinOp::MovSx32,
                    _ => return Err(reserved("BPF_MOV", "off")),
                }
            } else {
                zero("BPF_MOV", "src", raw.src as i64)?;
                zero("BPF_MOV", "off", raw.off as i64)?;
                BinOp::Mov
            };
            let src = if is_x { Operand::Reg(reg(raw.src)?) } else { Operand::Imm(raw.imm) };
            Ok(Insn::Bin { width, op: bin, dst, src })
        }
        alu::ADD
        | alu::SUB
        | alu::MUL
        | alu::DIV
        | alu::OR
        | alu::AND
        | alu::LSH
        | alu::RSH
        | alu::MOD
        | alu::XOR
        | alu::ARSH => {
            // The kernel's name of the instruction class.
            let family = if width == Width::W64 { "BPF_ALU64" } else { "BPF_ALU" };
            let signed = match raw.off {
                0 => false,
                1 if op == alu::DIV || op == alu::MOD => true,
                _ => return Err(reserved(family, "off")),
            };
            let src = if is_x {
                zero(family, "imm", raw.imm as i64)?;
                Operand::Reg(reg(raw.src)?)
            } else {
                zero(family, "src", raw.src as i64)?;
                Operand::Imm(raw.imm)
            };
            let bin = match op {
                alu::ADD => BinOp::Add,
                alu::SUB => BinOp::Sub,
                alu::MUL => BinOp::Mul,
                alu::DIV if signed => BinOp::SDiv,
                alu::DIV => BinOp::Div,
                alu::MOD if signed => BinOp::SMod,
                alu::MOD => BinOp::Mod,
                alu::OR => BinOp::Or,
                alu::AND => BinOp::And,
                alu::LSH => BinOp::Lsh,
                alu::RSH => BinOp::Rsh,
                alu::XOR => BinOp::Xor,
                _ => BinOp::Arsh,
            };
            Ok(Insn::Bin { width, op: bin, dst, src })
        }
        _ => Err(DecodeErrorKind::UnknownOpcode(code)),
    }
}

fn decode_jmp(raw: RawInsn) -> Result<Insn, DecodeErrorKind> {
    let code = raw.opcode;
    let width = if opcode::class_of(code) == class::JMP { Width::W64 } else { Width::W32 };
    let is_x = code & source::X != 0;
    let cond = match code & 0xf0 {
        jmp::JA => {
            if is_x {
                return Err(DecodeErrorKind::UnknownOpcode(code));
            }
            zero("BPF_JA", "src", raw.src as i64)?;
            zero("BPF_JA", "dst", raw.dst as i64)?;
            return Ok(match width {
                Width::W64 => {
                    zero("BPF_JA", "imm", raw.imm as i64)?;
                    Insn::Ja { off: raw.off as i32, long: false }
                }
                Width::W32 => {
                    zero("BPF_JA", "off", raw.off as i64)?;
                    Insn::Ja { off: raw.imm, long: true }
                }
            });
        }
        jmp::CALL => {
            if width == Width::W32 {
                return Err(DecodeErrorKind::UnknownOpcode(code));
            }
            if is_x {
                // RFC 9669 callx: the register holding the helper number is in `dst`.
                zero("BPF_CALL", "src", raw.src as i64)?;
                zero("BPF_CALL", "off", raw.off as i64)?;
                zero("BPF_CALL", "imm", raw.imm as i64)?;
                return Ok(Insn::Callx { dst: reg(raw.dst)? });
            }
            zero("BPF_CALL", "dst", raw.dst as i64)?;
            let target = match raw.src {
                0 => CallTarget::Helper(raw.imm),
                opcode::pseudo::CALL => CallTarget::Local(raw.imm),
                opcode::pseudo::KFUNC_CALL => CallTarget::Kfunc { btf_id: raw.imm, off: raw.off },
                _ => return Err(reserved("BPF_CALL", "src")),
            };
            if !matches!(target, CallTarget::Kfunc { .. }) {
                zero("BPF_CALL", "off", raw.off as i64)?;
            }
            return Ok(Insn::Call(target));
        }
        jmp::EXIT => {
            if is_x || width == Width::W32 {
                return Err(DecodeErrorKind::UnknownOpcode(code));
            }
            zero("BPF_EXIT", "src", raw.src as i64)?;
            zero("BPF_EXIT", "dst", raw.dst as i64)?;
            zero("BPF_EXIT", "off", raw.off as i64)?;
            zero("BPF_EXIT", "imm", raw.imm as i64)?;
            return Ok(Insn::Exit);
        }
        jmp::JEQ => JmpCond::Eq,
        jmp::JGT => JmpCond::Gt,
        jmp::JGE => JmpCond::Ge,
        jmp::JSET => JmpCond::Set,
        jmp::JNE => JmpCond::Ne,
        jmp::JSGT => JmpCond::Sgt,
        jmp::JSGE => JmpCond::Sge,
        jmp::JLT => JmpCond::Lt,
        jmp::JLE => JmpCond::Le,
        jmp::JSLT => JmpCond::Slt,
        jmp::JSLE => JmpCond::Sle,
        _ => return Err(DecodeErrorKind::UnknownOpcode(code)),
    };
    let src = if is_x {
        zero("BPF_JMP/JMP32", "imm", raw.imm as i64)?;
        Operand::Reg(reg(raw.src)?)
    } else {
        zero("BPF_JMP/JMP32", "src", raw.src as i64)?;
        Operand::Imm(raw.imm)
    };
    Ok(Insn::Jmp { width, cond, dst: reg(raw.dst)?, src, off: raw.off })
}

/// Encodes an instruction into its one or two raw slots.
pub fn encode_one(insn: &Insn) -> (RawInsn, Option<RawInsn>) {
    let r = |c: u8, dst: u8, src: u8, off: i16, imm: i32| RawInsn { opcode: c, dst, src, off, imm };
    let cls = |w: Width, c32: u8, c64: u8| if w == Width::W64 { c64 } else { c32 };
    let one = match *insn {
        Insn::Bin { width, op, dst, src } => {
            let (bits, off) = op.encoding();
            let c = cls(width, class::ALU, class::ALU64) | bits;
            match src {
                Operand::Reg(s) => r(c | source::X, dst.num(), s.num(), off, 0),
                Operand::Imm(i) => r(c | source::K, dst.num(), 0, off, i),
            }
        }
        Insn::Neg { width, dst } => r(cls(width, class::ALU, class::ALU64) | alu::NEG, dst.num(), 0, 0, 0),
        Insn::Endian { op, bits, dst } => {
            let c = match op {
                EndianOp::ToLe => class::ALU | alu::END | opcode::TO_LE,
                EndianOp::ToBe => class::ALU | alu::END | opcode::TO_BE,
                EndianOp::Swap => class::ALU64 | alu::END | opcode::TO_LE,
            };
            r(c, dst.num(), 0, 0, bits as i32)
        }
        Insn::Ja { off, long: false } => r(class::JMP | jmp::JA, 0, 0, off as i16, 0),
        Insn::Ja { off, long: true } => r(class::JMP32 | jmp::JA, 0, 0, 0, off),
        Insn::Jmp { width, cond, dst, src, off } => {
            let c = cls(width, class::JMP32, class::JMP) | cond.op();
            match src {
                Operand::Reg(s) => r(c | source::X, dst.num(), s.num(), off, 0),
                Operand::Imm(i) => r(c | source::K, dst.num(), 0, off, i),
            }
        }
        Insn::Call(CallTarget::Helper(id)) => r(class::JMP | jmp::CALL, 0, 0, 0, id),
        Insn::Call(CallTarget::Local(rel)) => r(class::JMP | jmp::CALL, 0, opcode::pseudo::CALL, 0, rel),
        Insn::Call(CallTarget::Kfunc { btf_id, off }) => {
            r(class::JMP | jmp::CALL, 0, opcode::pseudo::KFUNC_CALL, off, btf_id)
        }
        Insn::Callx { dst } => r(class::JMP | jmp::CALL | source::X, dst.num(), 0, 0, 0),
        Insn::Exit => r(class::JMP | jmp::EXIT, 0, 0, 0, 0),
        Insn::LoadImm64 { dst, src, imm, next_imm } => {
            return (r(class::LD | mode::IMM | size::DW, dst.num(), src.code(), 0, imm), Some(r(0, 0, 0, 0, next_imm)));
        }
        Insn::Load { size, signed, dst, src, off } => {
            let m = if signed { mode::MEMSX } else { mode::MEM };
            r(class::LDX | m | size_bits(size), dst.num(), src.num(), off, 0)
        }
        Insn::Store { size, dst, off, src: Operand::Imm(i) } => {
            r(class::ST | mode::MEM | size_bits(size), dst.num(), 0, off, i)
        }
        Insn::Store { size, dst, off, src: Operand::Reg(s) } => {
            r(class::STX | mode::MEM | size_bits(size), dst.num(), s.num(), off, 0)
        }
        Insn::Atomic { size, op, fetch, dst, src, off } => {
            use super::opcode::atomic as a;
            let f = if fetch { a::FETCH } else { 0 };
            let imm = match op {
                AtomicOp::Add => a::ADD | f,
                AtomicOp::Or => a::OR | f,
                AtomicOp::And => a::AND | f,
                AtomicOp::Xor => a::XOR | f,
                AtomicOp::Xchg => a::XCHG,
                AtomicOp::CmpXchg => a::CMPXCHG,
            };
            r(class::STX | mode::ATOMIC | size_bits(size), dst.num(), src.num(), off, imm)
        }
        Insn::LegacyLoad { mode: m, size, src, imm } => {
            let (mb, s) = match m {
                LegacyMode::Abs => (mode::ABS, 0),
                LegacyMode::Ind => (mode::IND, src.num()),
            };
            r(class::LD | mb | size_bits(size), 0, s, 0, imm)
        }
    };
    (one, None)
}

/// Decodes a whole program from bytes. Returns the instructions in order; their slot indices
/// follow from [`Insn::slots`].
pub fn decode(bytes: &[u8]) -> Result<Vec<Insn>, DecodeError> {
    if !bytes.len().is_multiple_of(8) {
        return Err(DecodeError { pc: bytes.len() / 8, kind: DecodeErrorKind::TrailingBytes(bytes.len() % 8) });
    }
    let raws: Vec<RawInsn> = bytes
        .chunks_exact(8)
        .map(|c| RawInsn::from_bytes(c.try_into().expect("chunks_exact(8) yields 8 bytes")))
        .collect();
    let mut out = Vec::with_capacity(raws.len());
    let mut pc = 0;
    while pc < raws.len() {
        let insn = decode_one(raws[pc], raws.get(pc + 1).copied()).map_err(|kind| DecodeError { pc, kind })?;
        pc += insn.slots();
        out.push(insn);
    }
    Ok(out)
}

/// Encodes instructions into bytes.
pub fn encode(insns: &[Insn]) -> Vec<u8> {
    let mut out = Vec::with_capacity(insns.len() * 8);
    for insn in insns {
        let (a, b) = encode_one(insn);
        out.extend_from_slice(&a.to_bytes());
        if let Some(b) = b {
            out.extend_from_slice(&b.to_bytes());
        }
    }
    out
}
