//! Classic BPF (cBPF), the 1992 packet-filter machine eBPF grew from: two 32-bit registers (A
//! and X), sixteen 32-bit scratch words `M[0..15]`, forward jumps only.
//!
//! - [`parse`]: classic programs as `tcpdump -dd` prints them and as the kernel's `bpf_asm`
//!   reads them;
//! - [`convert`]: the kernel's translation into eBPF (`bpf_convert_filter`).
//!
//! [`ClassicInsn::text`] prints an instruction in `bpf_asm` notation.

pub mod convert;
pub mod parse;

pub use convert::{convert, Converted};
pub use parse::parse;
pub use parse::Parsed;

/// One classic instruction, `struct sock_filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassicInsn {
    /// Opcode: class, size/operation, mode/source.
    pub code: u16,
    /// Jump offset when the condition holds.
    pub jt: u8,
    /// Jump offset when it does not.
    pub jf: u8,
    /// The constant.
    pub k: u32,
}

/// Opcode fields, named as in `include/uapi/linux/bpf_common.h` and `filter.h`.
pub mod op {
    /// `BPF_LD`.
    pub const LD: u16 = 0x00;
    /// `BPF_LDX`.
    pub const LDX: u16 = 0x01;
    /// `BPF_ST`.
    pub const ST: u16 = 0x02;
    /// `BPF_STX`.
    pub const STX: u16 = 0x03;
    /// `BPF_ALU`.
    pub const ALU: u16 = 0x04;
    /// `BPF_JMP`.
    pub const JMP: u16 = 0x05;
    /// `BPF_RET`.
    pub const RET: u16 = 0x06;
    /// `BPF_MISC`.
    pub const MISC: u16 = 0x07;
    /// `BPF_W`, `BPF_H`, `BPF_B`: load sizes.
    pub const W: u16 = 0x00;
    /// Half word.
    pub const H: u16 = 0x08;
    /// Byte.
    pub const B: u16 = 0x10;
    /// `BPF_IMM`, `BPF_ABS`, `BPF_IND`, `BPF_MEM`, `BPF_LEN`, `BPF_MSH`: load modes.
    pub const IMM: u16 = 0x00;
    /// `[k]`.
    pub const ABS: u16 = 0x20;
    /// `[x + k]`.
    pub const IND: u16 = 0x40;
    /// `M[k]`.
    pub const MEM: u16 = 0x60;
    /// The packet length.
    pub const LEN: u16 = 0x80;
    /// `4 * ([k] & 0xf)`.
    pub const MSH: u16 = 0xa0;
    /// Source `k` (`BPF_K`).
    pub const K: u16 = 0x00;
    /// Source `x` (`BPF_X`).
    pub const X: u16 = 0x08;
    /// `BPF_A`, a `ret` operand.
    pub const A: u16 = 0x10;
    /// `BPF_TAX`.
    pub const TAX: u16 = 0x00;
    /// `BPF_TXA`.
    pub const TXA: u16 = 0x80;
    /// ALU operations (`BPF_ADD` ...), in opcode order.
    pub const ALU_OPS: [(u16, &str); 11] = [
        (0x00, "add"),
        (0x10, "sub"),
        (0x20, "mul"),
        (0x30, "div"),
        (0x40, "or"),
        (0x50, "and"),
        (0x60, "lsh"),
        (0x70, "rsh"),
        (0x80, "neg"),
        (0x90, "mod"),
        (0xa0, "xor"),
    ];
    /// Jump operations (`BPF_JA` ...).
    pub const JMP_OPS: [(u16, &str); 5] = [(0x00, "ja"), (0x10, "jeq"), (0x20, "jgt"), (0x30, "jge"), (0x40, "jset")];
}

impl ClassicInsn {
    /// The class (`LD`, `ALU`, ...).
    pub fn class(self) -> u16 {
        self.code & 0x07
    }

    /// The instruction in `bpf_asm` notation, jump targets as absolute instruction numbers
    /// (`jeq #0x800, 2, 5` for "if equal go to 2, else to 5"); `at` is its own number.
    pub fn text(self, at: usize) -> String {
        let k = self.k;
        let size = |c: u16| match c & 0x18 {
            op::H => "h",
            op::B => "b",
            _ => "",
        };
        let mode = self.code & 0xe0;
        let src = |c: u16| if c & op::X != 0 { "x".to_string() } else { format!("#{k:#x}") };
        let target = |off: u32| at + 1 + off as usize;
        match self.class() {
            op::LD | op::LDX => {
                let r = if self.class() == op::LD { "ld" } else { "ldx" };
                match mode {
                    op::IMM => format!("{r} #{k:#x}"),
                    op::ABS => format!("{r}{} [{k}]", size(self.code)),
                    op::IND => format!("{r}{} [x + {k}]", size(self.code)),
                    op::MEM => format!("{r} M[{k}]"),
                    op::LEN => format!("{r} #len"),
                    op::MSH => format!("ldxb 4*([{k}]&0xf)"),
                    _ => format!("unknown {:#06x}", self.code),
                }
            }
            op::ST => format!("st M[{k}]"),
            op::STX => format!("stx M[{k}]"),
            op::ALU => {
                let name = op::ALU_OPS.iter().find(|(c, _)| *c == self.code & 0xf0).map_or("alu?", |(_, n)| n);
                if name == "neg" {
                    "neg".into()
                } else {
                    format!("{name} {}", src(self.code))
                }
            }
            op::JMP => {
                let name = op::JMP_OPS.iter().find(|(c, _)| *c == self.code & 0xf0).map_or("j?", |(_, n)| n);
                if name == "ja" {
                    format!("ja {}", target(k))
                } else {
                    format!("{name} {}, {}, {}", src(self.code), target(self.jt.into()), target(self.jf.into()))
                }
            }
            op::RET => match self.code & 0x18 {
                op::A => "ret a".into(),
                op::X => "ret x".into(),
                _ => format!("ret #{k}"),
            },
            _ => match self.code & 0xf8 {
                op::TXA => "txa".into(),
                _ => "tax".into(),
            },
        }
    }
}
