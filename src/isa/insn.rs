//! The typed instruction: one enum variant per kind of instruction, decoded once, matched
//! everywhere (assembler, disassembler, interpreter, verifier, kernel loader).

use std::fmt;

/// One of the eleven registers `r0`–`r10`. `r10` is the read-only frame pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(u8);

impl Reg {
    /// Return value and exit code.
    pub const R0: Reg = Reg(0);
    /// First argument; the context pointer at program entry.
    pub const R1: Reg = Reg(1);
    /// Read-only frame pointer.
    pub const R10: Reg = Reg(10);
    /// Number of registers (`MAX_BPF_REG`).
    pub const COUNT: usize = 11;

    /// The register numbered `n`, if `n` names one (0..=10).
    pub const fn new(n: u8) -> Option<Reg> {
        if n <= 10 {
            Some(Reg(n))
        } else {
            None
        }
    }

    /// The register's number.
    pub const fn num(self) -> u8 {
        self.0
    }

    /// The register's number as an index into a register file.
    pub const fn idx(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// Operand width of ALU and JMP instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// 32-bit: operate on the low halves; ALU results zero-extend.
    W32,
    /// 64-bit.
    W64,
}

/// Access size of loads, stores and atomics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    /// 1 byte (`u8`).
    B,
    /// 2 bytes (`u16`).
    H,
    /// 4 bytes (`u32`).
    W,
    /// 8 bytes (`u64`).
    DW,
}

impl Size {
    /// Width in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }

    /// The C type name used by the kernel syntax (`u8`…`u64`).
    pub const fn c_type(self) -> &'static str {
        match self {
            Size::B => "u8",
            Size::H => "u16",
            Size::W => "u32",
            Size::DW => "u64",
        }
    }

    /// The signed C type name (`s8`…`s64`).
    pub const fn c_stype(self) -> &'static str {
        match self {
            Size::B => "s8",
            Size::H => "s16",
            Size::W => "s32",
            Size::DW => "s64",
        }
    }
}

/// Second operand of ALU, JMP and ST instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    /// A register (`BPF_X`).
    Reg(Reg),
    /// The 32-bit immediate (`BPF_K`); sign-extended for 64-bit operations.
    Imm(i32),
}

/// Binary ALU operations, including the v4 signed and sign-extending forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    /// Unsigned division (`off` = 0).
    Div,
    /// Signed division (`BPF_DIV` with `off` = 1).
    SDiv,
    /// Unsigned modulo (`off` = 0).
    Mod,
    /// Signed modulo (`BPF_MOD` with `off` = 1).
    SMod,
    Or,
    And,
    Lsh,
    Rsh,
    Arsh,
    Xor,
    Mov,
    /// Move with sign extension from 8 bits (`BPF_MOV` with `off` = 8, register source).
    MovSx8,
    /// Move with sign extension from 16 bits (`off` = 16).
    MovSx16,
    /// Move with sign extension from 32 bits (`off` = 32, 64-bit only).
    MovSx32,
}

impl BinOp {
    /// Every operation, for generators and tables.
    pub const ALL: [BinOp; 17] = [
        BinOp::Add,
        BinOp::Sub,
        BinOp::Mul,
        BinOp::Div,
        BinOp::SDiv,
        BinOp::Mod,
        BinOp::SMod,
        BinOp::Or,
        BinOp::And,
        BinOp::Lsh,
        BinOp::Rsh,
        BinOp::Arsh,
        BinOp::Xor,
        BinOp::Mov,
        BinOp::MovSx8,
        BinOp::MovSx16,
        BinOp::MovSx32,
    ];

    /// The `(opcode op bits, off)` pair that encodes this operation.
    pub const fn encoding(self) -> (u8, i16) {
        use super::opcode::alu;
        match self {
            BinOp::Add => (alu::ADD, 0),
            BinOp::Sub => (alu::SUB, 0),
            BinOp::Mul => (alu::MUL, 0),
            BinOp::Div => (alu::DIV, 0),
            BinOp::SDiv => (alu::DIV, 1),
            BinOp::Mod => (alu::MOD, 0),
            BinOp::SMod => (alu::MOD, 1),
            BinOp::Or => (alu::OR, 0),
            BinOp::And => (alu::AND, 0),
            BinOp::Lsh => (alu::LSH, 0),
            BinOp::Rsh => (alu::RSH, 0),
            BinOp::Arsh => (alu::ARSH, 0),
            BinOp::Xor => (alu::XOR, 0),
            BinOp::Mov => (alu::MOV, 0),
            BinOp::MovSx8 => (alu::MOV, 8),
            BinOp::MovSx16 => (alu::MOV, 16),
            BinOp::MovSx32 => (alu::MOV, 32),
        }
    }

    /// The compound-assignment operator of the kernel/LLVM syntax (`+=`, `s/=`, `s>>=`; `=` for
    /// the moves).
    pub const fn operator(self) -> &'static str {
        match self {
            BinOp::Add => "+=",
            BinOp::Sub => "-=",
            BinOp::Mul => "*=",
            BinOp::Div => "/=",
            BinOp::SDiv => "s/=",
            BinOp::Mod => "%=",
            BinOp::SMod => "s%=",
            BinOp::Or => "|=",
            BinOp::And => "&=",
            BinOp::Lsh => "<<=",
            BinOp::Rsh => ">>=",
            BinOp::Arsh => "s>>=",
            BinOp::Xor => "^=",
            BinOp::Mov | BinOp::MovSx8 | BinOp::MovSx16 | BinOp::MovSx32 => "=",
        }
    }

    /// True for the sign-extending moves, which only take a register source.
    pub const fn is_movsx(self) -> bool {
        matches!(self, BinOp::MovSx8 | BinOp::MovSx16 | BinOp::MovSx32)
    }
}

/// Byte-order operations (`BPF_END`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndianOp {
    /// Convert to little endian (`le16/32/64`; ALU class, `BPF_TO_LE`): truncation on x86.
    ToLe,
    /// Convert to big endian (`be16/32/64`; ALU class, `BPF_TO_BE`).
    ToBe,
    /// Unconditional byte swap (`bswap16/32/64`; ALU64 class, v4).
    Swap,
}

/// Conditions of conditional jumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JmpCond {
    Eq,
    Gt,
    Ge,
    Set,
    Ne,
    Sgt,
    Sge,
    Lt,
    Le,
    Slt,
    Sle,
}

impl JmpCond {
    /// Every condition, for generators and tables.
    pub const ALL: [JmpCond; 11] = [
        JmpCond::Eq,
        JmpCond::Gt,
        JmpCond::Ge,
        JmpCond::Set,
        JmpCond::Ne,
        JmpCond::Sgt,
        JmpCond::Sge,
        JmpCond::Lt,
        JmpCond::Le,
        JmpCond::Slt,
        JmpCond::Sle,
    ];

    /// The opcode op bits of this condition.
    pub const fn op(self) -> u8 {
        use super::opcode::jmp;
        match self {
            JmpCond::Eq => jmp::JEQ,
            JmpCond::Gt => jmp::JGT,
            JmpCond::Ge => jmp::JGE,
            JmpCond::Set => jmp::JSET,
            JmpCond::Ne => jmp::JNE,
            JmpCond::Sgt => jmp::JSGT,
            JmpCond::Sge => jmp::JSGE,
            JmpCond::Lt => jmp::JLT,
            JmpCond::Le => jmp::JLE,
            JmpCond::Slt => jmp::JSLT,
            JmpCond::Sle => jmp::JSLE,
        }
    }

    /// The uBPF-syntax mnemonic stem (`jeq`, `jsgt`, ...), without the `32` suffix.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            JmpCond::Eq => "jeq",
            JmpCond::Gt => "jgt",
            JmpCond::Ge => "jge",
            JmpCond::Set => "jset",
            JmpCond::Ne => "jne",
            JmpCond::Sgt => "jsgt",
            JmpCond::Sge => "jsge",
            JmpCond::Lt => "jlt",
            JmpCond::Le => "jle",
            JmpCond::Slt => "jslt",
            JmpCond::Sle => "jsle",
        }
    }

    /// The condition that holds exactly when this one fails, where the ISA has one (`None` for
    /// `Set`: "no bit in common" is no condition of its own).
    pub const fn negated(self) -> Option<JmpCond> {
        use JmpCond::*;
        Some(match self {
            Eq => Ne,
            Ne => Eq,
            Gt => Le,
            Le => Gt,
            Ge => Lt,
            Lt => Ge,
            Sgt => Sle,
            Sle => Sgt,
            Sge => Slt,
            Slt => Sge,
            Set => return None,
        })
    }

    /// The kernel/LLVM-syntax operator (`==`, `s>`, `&`, ...).
    pub const fn operator(self) -> &'static str {
        match self {
            JmpCond::Eq => "==",
            JmpCond::Gt => ">",
            JmpCond::Ge => ">=",
            JmpCond::Set => "&",
            JmpCond::Ne => "!=",
            JmpCond::Sgt => "s>",
            JmpCond::Sge => "s>=",
            JmpCond::Lt => "<",
            JmpCond::Le => "<=",
            JmpCond::Slt => "s<",
            JmpCond::Sle => "s<=",
        }
    }
}

/// Read-modify-write operations of `BPF_ATOMIC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    Add,
    Or,
    And,
    Xor,
    /// Exchange; always returns the old value in `src`.
    Xchg,
    /// Compare `r0` with memory and exchange if equal; the old value lands in `r0`.
    CmpXchg,
}

/// What a call instruction calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallTarget {
    /// A helper function by its kernel number (`src_reg` = 0).
    Helper(i32),
    /// A BPF subprogram, `imm` instructions after the next one (`src_reg` = 1).
    Local(i32),
    /// A kernel function by BTF id (`src_reg` = 2); `off` selects the module BTF (0 = vmlinux).
    Kfunc { btf_id: i32, off: i16 },
}

/// Meaning of the 64-bit immediate of `lddw` (the `src_reg` pseudo source).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ImmSrc {
    /// A plain 64-bit constant (`src_reg` = 0).
    Imm,
    /// `BPF_PSEUDO_MAP_FD`: imm is a map file descriptor; the register gets the map pointer.
    MapFd,
    /// `BPF_PSEUDO_MAP_VALUE`: imm is a map fd, next_imm an offset into its value.
    MapValue,
    /// `BPF_PSEUDO_BTF_ID`: imm is a BTF id of a kernel variable.
    BtfId,
    /// `BPF_PSEUDO_FUNC`: imm is a relative offset to a subprogram (a callback pointer).
    Func,
    /// `BPF_PSEUDO_MAP_IDX`: imm indexes the `fd_array` passed at load time.
    MapIdx,
    /// `BPF_PSEUDO_MAP_IDX_VALUE`: map by `fd_array` index plus value offset.
    MapIdxValue,
}

impl ImmSrc {
    /// The `src_reg` value encoding this source.
    pub const fn code(self) -> u8 {
        match self {
            ImmSrc::Imm => 0,
            ImmSrc::MapFd => 1,
            ImmSrc::MapValue => 2,
            ImmSrc::BtfId => 3,
            ImmSrc::Func => 4,
            ImmSrc::MapIdx => 5,
            ImmSrc::MapIdxValue => 6,
        }
    }

    /// The source encoded by `src_reg`, if any.
    pub const fn from_code(code: u8) -> Option<ImmSrc> {
        Some(match code {
            0 => ImmSrc::Imm,
            1 => ImmSrc::MapFd,
            2 => ImmSrc::MapValue,
            3 => ImmSrc::BtfId,
            4 => ImmSrc::Func,
            5 => ImmSrc::MapIdx,
            6 => ImmSrc::MapIdxValue,
            _ => return None,
        })
    }
}

/// Addressing mode of the legacy packet loads (`BPF_LD | BPF_ABS/IND`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LegacyMode {
    /// `r0 = *(packet + imm)`.
    Abs,
    /// `r0 = *(packet + src + imm)`.
    Ind,
}

/// One eBPF instruction, decoded. `LoadImm64` stands for both 8-byte slots of `lddw`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Insn {
    /// `dst = dst op src` (ALU / ALU64 classes).
    Bin { width: Width, op: BinOp, dst: Reg, src: Operand },
    /// `dst = -dst`.
    Neg { width: Width, dst: Reg },
    /// Byte-order conversion of the low `bits` (16, 32 or 64) of `dst`.
    Endian { op: EndianOp, bits: u32, dst: Reg },
    /// Unconditional jump: `ja` (16-bit `off`, `long` = false) or `gotol` (32-bit `imm`, JMP32 class).
    Ja { off: i32, long: bool },
    /// Conditional jump by `off` slots when `dst cond src` holds.
    Jmp { width: Width, cond: JmpCond, dst: Reg, src: Operand, off: i16 },
    /// Call a helper, subprogram or kfunc.
    Call(CallTarget),
    /// Call the helper whose number is in register `dst` (RFC 9669 `callx`).
    Callx { dst: Reg },
    /// Return from the current function with `r0`.
    Exit,
    /// `dst = imm64` (two slots). `imm` is the first slot's immediate, `next_imm` the second's.
    LoadImm64 { dst: Reg, src: ImmSrc, imm: i32, next_imm: i32 },
    /// `dst = *(size *)(src + off)`; `signed` selects `BPF_MEMSX` (sign extension).
    Load { size: Size, signed: bool, dst: Reg, src: Reg, off: i16 },
    /// `*(size *)(dst + off) = src` (`BPF_ST` for an immediate, `BPF_STX` for a register).
    Store { size: Size, dst: Reg, off: i16, src: Operand },
    /// Atomic read-modify-write of `*(size *)(dst + off)` with `src` (W or DW only).
    Atomic { size: Size, op: AtomicOp, fetch: bool, dst: Reg, src: Reg, off: i16 },
    /// Legacy packet load into `r0` (`BPF_LD | BPF_ABS/IND`); `src` is used by `Ind`.
    LegacyLoad { mode: LegacyMode, size: Size, src: Reg, imm: i32 },
}

impl Insn {
    /// Number of 8-byte slots the instruction occupies (2 for `lddw`, else 1).
    pub const fn slots(&self) -> usize {
        match self {
            Insn::LoadImm64 { .. } => 2,
            _ => 1,
        }
    }

    /// The register the instruction writes besides memory and r0 (a loader refuses r10 here):
    /// the destination, or the source of a fetching atomic.
    pub const fn written_reg(&self) -> Option<Reg> {
        match *self {
            Insn::Bin { dst, .. } | Insn::Neg { dst, .. } | Insn::Endian { dst, .. } => Some(dst),
            Insn::LoadImm64 { dst, .. } | Insn::Load { dst, .. } => Some(dst),
            Insn::Atomic { src, fetch: true, .. } => Some(src),
            _ => None,
        }
    }

    /// The 64-bit constant of a `LoadImm64` (`next_imm << 32 | imm`).
    pub const fn imm64(imm: i32, next_imm: i32) -> u64 {
        ((next_imm as u32 as u64) << 32) | imm as u32 as u64
    }

    /// Relative jump offset in slots, for instructions that branch (`ja`, `gotol`, conditional
    /// jumps and local calls). The target slot is `pc + 1 + offset`.
    pub const fn branch_offset(&self) -> Option<i64> {
        match *self {
            Insn::Ja { off, .. } => Some(off as i64),
            Insn::Jmp { off, .. } => Some(off as i64),
            Insn::Call(CallTarget::Local(imm)) => Some(imm as i64),
            Insn::LoadImm64 { src: ImmSrc::Func, imm, .. } => Some(imm as i64),
            _ => None,
        }
    }

    /// The same instruction with its branch offset replaced (used by assemblers for labels).
    /// Returns `None` when the instruction does not branch or the offset does not fit.
    pub fn with_branch_offset(self, offset: i64) -> Option<Insn> {
        Some(match self {
            Insn::Ja { long: false, .. } => Insn::Ja { off: i16::try_from(offset).ok()? as i32, long: false },
            Insn::Ja { long: true, .. } => Insn::Ja { off: i32::try_from(offset).ok()?, long: true },
            Insn::Jmp { width, cond, dst, src, .. } => {
                Insn::Jmp { width, cond, dst, src, off: i16::try_from(offset).ok()? }
            }
            Insn::Call(CallTarget::Local(_)) => Insn::Call(CallTarget::Local(i32::try_from(offset).ok()?)),
            Insn::LoadImm64 { dst, src: ImmSrc::Func, next_imm, .. } => {
                Insn::LoadImm64 { dst, src: ImmSrc::Func, imm: i32::try_from(offset).ok()?, next_imm }
            }
            _ => return None,
        })
    }

    /// True if control never falls through to the next instruction.
    pub const fn is_terminator(&self) -> bool {
        matches!(self, Insn::Exit | Insn::Ja { .. })
    }
}
