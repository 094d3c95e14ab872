//! Classic BPF (cBPF), the packet-filter language eBPF grew from: its instructions, the two text
//! forms people meet it in (`tcpdump -dd` and the kernel's `bpf_asm`), the classic checker's
//! rules, and the conversion to eBPF the kernel performs when a classic filter is attached.

pub mod convert;
pub mod insn;
pub mod parse;

pub use convert::{convert, Converted};
pub use insn::ClassicInsn;
pub use parse::{parse, ParseError};
