//! ebpf-lab: an eBPF laboratory. One bytecode ([`isa`], [`program::Program`]) and every stage of
//! its life: assembler and disassembler ([`asm`]), interpreter ([`interp`]) over a shared runtime
//! of maps, helpers and program contexts ([`runtime`]), and a Linux kernel backend ([`kernel`])
//! that loads the same bytecode and cross-checks the answers.

pub mod asm;
pub mod cli;
pub mod conformance;
pub mod diag;
pub mod elf;
pub mod engine;
pub mod interp;
pub mod isa;
pub mod kernel;
pub mod load;
pub mod program;
pub mod runtime;
