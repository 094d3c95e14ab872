//! The `ebpf-lab` command line: a thin clap front end over the library.
//!
//! Exit codes: 0 success, 1 the program is wrong (rejected, failed at run time, engines disagree),
//! 2 bad input or usage (unreadable file, assembly error, unavailable kernel for `check`).

mod asm;
mod attach;
mod cbpf;
mod check;
mod debug;
mod disasm;
mod exercise;
mod input;
mod jit;
mod json;
mod report;
mod run;
pub(crate) mod verify;

use crate::asm::Syntax;
use crate::diag::ColorChoice;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;

/// Exit code: the program is wrong.
pub const EXIT_PROGRAM: i32 = 1;
/// Exit code: bad input or usage.
pub const EXIT_INPUT: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "ebpf-lab",
    version,
    about = "An eBPF laboratory: assemble, disassemble, run and cross-check eBPF programs"
)]
struct Cli {
    /// When to colour diagnostics (NO_COLOR is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Text syntax choice on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SyntaxArg {
    /// The kernel/LLVM syntax: `r0 = 1`, `if r1 > r2 goto +3`.
    Llvm,
    /// The uBPF / bpf_conformance syntax: `mov %r0, 1`, `jgt %r1, 2, L3`.
    Ubpf,
}

impl From<SyntaxArg> for Syntax {
    fn from(s: SyntaxArg) -> Syntax {
        match s {
            SyntaxArg::Llvm => Syntax::Llvm,
            SyntaxArg::Ubpf => Syntax::Ubpf,
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Assemble a `.s` file (either syntax) into raw bytecode.
    Asm(asm::AsmArgs),
    /// Disassemble bytecode (`.bin`, hex text, a `.s` or an ELF `.o` file) in either syntax.
    Disasm(disasm::DisasmArgs),
    /// Run a program on one engine (the interpreter by default, the JIT, or the kernel).
    Run(run::RunArgs),
    /// Load a program into the kernel, run it on every engine, and compare the results.
    Check(check::CheckArgs),
    /// Attach a program to a real kernel hook for a while, showing its printk lines and maps.
    Attach(attach::AttachArgs),
    /// Show a classic BPF program (`tcpdump -dd` or bpf_asm) and the eBPF the kernel converts it to.
    Cbpf(cbpf::CbpfArgs),
    /// Compile a program with the JIT and list each instruction with the x86-64 it became.
    Jit(jit::JitArgs),
    /// Step through a program on the interpreter, with the verifier's knowledge beside each value.
    Debug(debug::DebugArgs),
    /// The course's exercises: list, show, start, check, hint.
    Exercise(exercise::ExerciseArgs),
    /// Verify a program with ebpf-lab's own verifier (no root needed) and explain a rejection.
    Verify(verify::VerifyArgs),
}

/// Shared output settings for commands.
pub struct Ctx {
    /// Colour diagnostics on standard error.
    pub color_err: bool,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_INPUT } else { 0 };
        }
    };
    let choice = match cli.color {
        Color::Auto => ColorChoice::Auto,
        Color::Always => ColorChoice::Always,
        Color::Never => ColorChoice::Never,
    };
    let ctx = Ctx { color_err: choice.enabled(std::io::stderr().is_terminal()) };
    match cli.command {
        Command::Asm(args) => asm::run(&ctx, args),
        Command::Disasm(args) => disasm::run(&ctx, args),
        Command::Run(args) => run::run(&ctx, args),
        Command::Check(args) => check::run(&ctx, args),
        Command::Attach(args) => attach::run(&ctx, args),
        Command::Cbpf(args) => cbpf::run(&ctx, args),
        Command::Jit(args) => jit::run(&ctx, args),
        Command::Exercise(args) => exercise::run(&ctx, args),
        Command::Verify(args) => verify::run(&ctx, args),
        Command::Debug(args) => debug::run(&ctx, args),
    }
}

/// Reads a program for a command, printing diagnostics on failure.
pub fn load(ctx: &Ctx, path: &std::path::Path, syntax: Option<SyntaxArg>) -> Result<crate::program::Program, i32> {
    crate::load::load_program(path, syntax.map(Into::into)).map_err(|e| {
        eprint!("{}", e.render(ctx.color_err));
        EXIT_INPUT
    })
}

/// Reads a program and builds its run input (`--prog-type` applied), printing diagnostics on
/// failure, for `run` and `check`.
pub fn load_for_run(
    ctx: &Ctx,
    path: &std::path::Path,
    syntax: Option<SyntaxArg>,
    input: &input::InputArgs,
) -> Result<(crate::program::Program, input::RunInput), i32> {
    load_for_run_explained(ctx, path, syntax, input).map_err(|(code, _)| code)
}

/// [`load_for_run`], also giving the failure's first message in one line (for `--json`).
pub fn load_for_run_explained(
    ctx: &Ctx,
    path: &std::path::Path,
    syntax: Option<SyntaxArg>,
    input: &input::InputArgs,
) -> Result<(crate::program::Program, input::RunInput), (i32, String)> {
    let mut program = crate::load::load_program(path, syntax.map(Into::into)).map_err(|e| {
        eprint!("{}", e.render(ctx.color_err));
        (EXIT_INPUT, e.diagnostics.first().map_or_else(String::new, |d| d.message.clone()))
    })?;
    let built = crate::load::check_maps_declared(&path.display().to_string(), &program)
        .and_then(|()| input.prog_type(&program))
        .and_then(|t| {
            program.prog_type = t;
            input.apply_globals(&mut program)?;
            input.build(&program)
        });
    built.map(|b| (program, b)).map_err(|e| {
        eprint!("{}", crate::diag::render(None, &crate::diag::Diagnostic::error(e.clone(), None), ctx.color_err));
        (EXIT_INPUT, e)
    })
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename, so a failed
/// run never leaves a half-written output.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
