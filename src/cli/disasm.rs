//! `ebpf-lab disasm FILE [--syntax llvm|ubpf]`: one instruction per line with its index.

use super::{load, Ctx, SyntaxArg};
use crate::asm::{disasm, Syntax};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `disasm`.
#[derive(Args, Debug)]
pub struct DisasmArgs {
    /// Raw bytecode (`.bin`), hex text, or an assembly file (`-` for standard input).
    file: PathBuf,
    /// Output syntax.
    #[arg(long, value_enum, default_value_t = SyntaxArg::Llvm)]
    syntax: SyntaxArg,
    /// Syntax of FILE when it is assembly (detected by default).
    #[arg(long, value_enum)]
    input_syntax: Option<SyntaxArg>,
}

/// Runs `disasm`.
pub fn run(ctx: &Ctx, args: DisasmArgs) -> i32 {
    match load(ctx, &args.file, args.input_syntax) {
        Ok(program) => {
            print!("{}", disasm::disassemble(&program, Syntax::from(args.syntax)));
            0
        }
        Err(code) => code,
    }
}
