//! One classic BPF instruction (`struct sock_filter`) and its opcode fields, numbered as in
//! `include/uapi/linux/filter.h` and `bpf_common.h`.

use std::fmt;

/// Instruction classes (`code & 0x07`).
pub mod class {
    /// `A = ...` loads.
    pub const LD: u16 = 0x00;
    /// `X = ...` loads.
    pub const LDX: u16 = 0x01;
    /// `M[k] = A`.
    pub const ST: u16 = 0x02;
    /// `M[k] = X`.
    pub const STX: u16 = 0x03;
    /// `A = A op src`.
    pub const ALU: u16 = 0x04;
    /// Jumps.
    pub const JMP: u16 = 0x05;
    /// Return (accept this many bytes).
    pub const RET: u16 = 0x06;
    /// `tax`, `txa`.
    pub const MISC: u16 = 0x07;
}

/// Load sizes (`code & 0x18`).
pub mod size {
    /// 32 bits.
    pub const W: u16 = 0x00;
    /// 16 bits.
    pub const H: u16 = 0x08;
    /// 8 bits.
    pub const B: u16 = 0x10;
}

/// Load modes (`code & 0xe0`).
pub mod mode {
    /// The constant `k`.
    pub const IMM: u16 = 0x00;
    /// Packet bytes at `k`.
    pub const ABS: u16 = 0x20;
    /// Packet bytes at `X + k`.
    pub const IND: u16 = 0x40;
    /// Scratch memory `M[k]`.
    pub const MEM: u16 = 0x60;
    /// The packet length.
    pub const LEN: u16 = 0x80;
    /// `4 * (P[k] & 0xf)`: an IPv4 header length.
    pub const MSH: u16 = 0xa0;
}

/// `SKF_AD_OFF`: `ld [SKF_AD_OFF + n]` reads ancillary data (`#proto`, `#len`...) instead of the packet.
pub const SKF_AD_OFF: i32 = -0x1000;

/// The ancillary data `ld #name` can read, with its `SKF_AD_*` number, as `bpf_asm` spells them.
pub const EXTENSIONS: &[(&str, u32)] = &[
    ("proto", 0),
    ("type", 4),
    ("ifidx", 8),
    ("nla", 12),
    ("nlan", 16),
    ("mark", 20),
    ("queue", 24),
    ("hatype", 28),
    ("rxhash", 32),
    ("cpu", 36),
    ("vlan_tci", 44),
    ("vlan_avail", 48),
    ("poff", 52),
    ("rand", 56),
    ("vlan_tpid", 60),
];

/// A classic instruction: `{ code, jt, jf, k }`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassicInsn {
    /// Opcode.
    pub code: u16,
    /// Jump offset when the condition holds.
    pub jt: u8,
    /// Jump offset when it does not.
    pub jf: u8,
    /// Constant operand.
    pub k: u32,
}

impl ClassicInsn {
    /// The class bits.
    pub fn class(&self) -> u16 {
        self.code & 0x07
    }

    /// The extension read by an `ld [SKF_AD_OFF + n]`, if this is one.
    pub fn extension(&self) -> Option<(&'static str, u32)> {
        let abs = self.class() == class::LD && self.code & 0xe0 == mode::ABS;
        let n = (self.k as i32).checked_sub(SKF_AD_OFF)?;
        if !abs || !(0..0x1000).contains(&n) {
            return None;
        }
        EXTENSIONS.iter().find(|(_, v)| *v == n as u32).copied().or(Some(("unknown", n as u32)))
    }
}

fn size_suffix(code: u16) -> &'static str {
    match code & 0x18 {
        size::H => "h",
        size::B => "b",
        _ => "",
    }
}

fn alu_name(op: u16) -> Option<&'static str> {
    Some(match op {
        0x00 => "add",
        0x10 => "sub",
        0x20 => "mul",
        0x30 => "div",
        0x40 => "or",
        0x50 => "and",
        0x60 => "lsh",
        0x70 => "rsh",
        0x80 => "neg",
        0x90 => "mod",
        0xa0 => "xor",
        _ => return None,
    })
}

impl fmt::Display for ClassicInsn {
    /// The instruction as `tcpdump -d` prints it, with jump targets relative (`jt +2`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = self.k;
        let x_or_k = |c: u16| if c & 0x08 != 0 { "x".to_string() } else { format!("#{k:#x}") };
        match self.class() {
            class::LD | class::LDX => {
                let x = if self.class() == class::LDX { "x" } else { "" };
                let sz = size_suffix(self.code);
                match self.code & 0xe0 {
                    mode::IMM => write!(f, "ld{x} #{k:#x}"),
                    mode::LEN => write!(f, "ld{x} #len"),
                    mode::MEM => write!(f, "ld{x} M[{k}]"),
                    mode::MSH => write!(f, "ldxb 4*([{k}]&0xf)"),
                    mode::IND => write!(f, "ld{sz} [x + {k}]"),
                    _ => match self.extension() {
                        Some((name, _)) => write!(f, "ld{sz} #{name}"),
                        None => write!(f, "ld{sz} [{k}]"),
                    },
                }
            }
            class::ST => write!(f, "st M[{k}]"),
            class::STX => write!(f, "stx M[{k}]"),
            class::ALU => match alu_name(self.code & 0xf0) {
                Some("neg") => write!(f, "neg"),
                Some(op) => write!(f, "{op} {}", x_or_k(self.code)),
                None => write!(f, "alu? {:#x}", self.code),
            },
            class::JMP => {
                let op = match self.code & 0xf0 {
                    0x00 => return write!(f, "ja +{k}"),
                    0x10 => "jeq",
                    0x20 => "jgt",
                    0x30 => "jge",
                    0x40 => "jset",
                    _ => "j?",
                };
                write!(f, "{op} {} jt +{} jf +{}", x_or_k(self.code), self.jt, self.jf)
            }
            class::RET => match self.code & 0x18 {
                0x00 => write!(f, "ret #{k}"),
                0x10 => write!(f, "ret a"),
                _ => write!(f, "ret x"),
            },
            _ => match self.code & 0xf8 {
                0x00 => write!(f, "tax"),
                0x80 => write!(f, "txa"),
                _ => write!(f, "misc? {:#x}", self.code),
            },
        }
    }
}
