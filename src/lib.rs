//! ebpf-lab: an eBPF laboratory. One bytecode ([`isa`], [`program::Program`]) and every stage of
//! its life: assembler and disassembler ([`asm`]), interpreter ([`interp`]) over a shared runtime
//! of maps, helpers and program contexts ([`runtime`]), and a Linux kernel backend ([`kernel`])
//! that loads the same bytecode and cross-checks the answers.
//!
//! ```
//! use ebpf_lab::{asm, interp};
//!
//! // Sum the bytes of the input buffer (a `mem` program: r1 = buffer, r2 = length).
//! let src = "r0 = 0\nr3 = r1\nr3 += r2\nloop:\nif r1 >= r3 goto done\n\
//!            r4 = *(u8 *)(r1 + 0)\nr0 += r4\nr1 += 1\ngoto loop\ndone:\nexit\n";
//! let program = asm::assemble("sum.s", src, None)?;
//! let mut vm = interp::Vm::new(&program)?;
//! let out = vm.run(&interp::Input::mem(vec![1, 2, 3, 4]))?;
//! assert_eq!(out.r0, 10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod asm;
pub mod cbpf;
pub mod cli;
pub mod conformance;
pub mod conformance_plugin;
pub mod course;
pub mod debug;
pub mod diag;
pub mod elf;
pub mod engine;
pub mod global_data;
pub mod interp;
pub mod isa;
pub mod jit;
pub mod kernel;
pub mod load;
pub mod program;
pub mod report;
pub mod runtime;
pub mod verifier;
