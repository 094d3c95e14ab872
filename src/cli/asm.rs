//! `ebpf-lab asm PROG.s [-o OUT]`: assemble to raw bytecode (or hex with `--hex`).

use super::{load, write_atomic, Ctx, SyntaxArg, EXIT_INPUT};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `asm`.
#[derive(Args, Debug)]
pub struct AsmArgs {
    /// The assembly file (`-` for standard input).
    file: PathBuf,
    /// Output file (default: FILE with extension `.bin`; `-` for standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Force the syntax instead of detecting it per file.
    #[arg(long, value_enum)]
    syntax: Option<SyntaxArg>,
    /// Write hex text, one instruction slot per line, instead of raw bytes.
    #[arg(long)]
    hex: bool,
}

/// Runs `asm`.
pub fn run(ctx: &Ctx, args: AsmArgs) -> i32 {
    let program = match load(ctx, &args.file, args.syntax) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let bytes = program.to_bytes();
    let out = if args.hex {
        bytes
            .chunks(8)
            .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ") + "\n")
            .collect::<String>()
            .into_bytes()
    } else {
        bytes
    };
    let path = args.output.unwrap_or_else(|| {
        if args.file.as_os_str() == "-" {
            PathBuf::from("-")
        } else {
            args.file.with_extension(if args.hex { "hex" } else { "bin" })
        }
    });
    let written = if path.as_os_str() == "-" { std::io::stdout().write_all(&out) } else { write_atomic(&path, &out) };
    match written {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            EXIT_INPUT
        }
    }
}
