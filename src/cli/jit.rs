//! `ebpf-lab jit PROG [--json]`: the native code the JIT makes of a program, each eBPF
//! instruction followed by the x86-64 it became, with the code size and compile time.

use super::json::{hex, Json};
use super::run::render_engine_error;
use super::run::JitChecksArg;
use super::{load, Ctx, SyntaxArg, EXIT_PROGRAM};
use crate::engine::EngineError;
use crate::jit::listing::{listing_with, Listing, NativeInsn};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `jit`.
#[derive(Args, Debug)]
pub struct JitArgs {
    /// Raw bytecode (`.bin`), hex text, an assembly file or an ELF `.o` (`-` for standard input).
    file: PathBuf,
    /// Syntax of FILE when it is assembly (detected by default).
    #[arg(long, value_enum)]
    syntax: Option<SyntaxArg>,
    /// Print JSON instead of the listing.
    #[arg(long)]
    json: bool,
    /// Also list the shared code after the instructions (slow paths, entry and exits).
    #[arg(long)]
    stubs: bool,
    /// Which memory accesses to check: `all`, or `unproven` to show the code without the
    /// checks the verifier proved redundant (as `run --jit-checks`).
    #[arg(long, value_enum, default_value_t = JitChecksArg::All)]
    jit_checks: JitChecksArg,
}

/// Runs `jit`.
pub fn run(ctx: &Ctx, args: JitArgs) -> i32 {
    let program = match load(ctx, &args.file, args.syntax) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let listed = match listing_with(&program, args.jit_checks.into()) {
        Ok(l) => l,
        Err(e) => {
            if args.json {
                println!("{}", Json::obj([("error", Json::str(e.to_string()))]).render());
            } else {
                eprint!("{}", render_engine_error(ctx, &program, &EngineError::Runtime(e)));
            }
            return EXIT_PROGRAM;
        }
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe (`| head`) just ends the output.
    let _ = if args.json {
        writeln!(out, "{}", to_json(&listed).render())
    } else {
        write_text(&mut out, &listed, args.stubs)
    };
    0
}

fn write_text(out: &mut impl Write, l: &Listing, stubs: bool) -> std::io::Result<()> {
    for insn in &l.insns {
        write!(out, "{:>5}: {}", insn.pc, insn.text)?;
        match (&insn.location, &insn.source_line) {
            (Some(loc), Some(line)) => writeln!(out, "    ; {loc}: {line}")?,
            _ => writeln!(out)?,
        }
        for n in &insn.native {
            write_native(out, n)?;
        }
    }
    for c in &l.counted_loops {
        writeln!(
            out,
            "counted loop {}-{}: the guard at {:06x} checks its accesses and the budget once; when they hold, \
             the unchecked copy at {:06x} runs (--stubs lists it)",
            c.head, c.back, c.guard, c.copy
        )?;
    }
    if stubs {
        writeln!(out, "       (shared code: slow paths, entry, exits, unchecked loop copies)")?;
        for n in &l.stubs {
            write_native(out, n)?;
        }
    }
    writeln!(
        out,
        "{} eBPF instructions -> {} bytes of x86-64 ({} for the instructions, {} shared), compiled in {:.1} µs",
        l.insns.len(),
        l.code_size,
        l.insns_size,
        l.code_size - l.insns_size,
        l.compile_time.as_secs_f64() * 1e6
    )
}

fn write_native(out: &mut impl Write, n: &NativeInsn) -> std::io::Result<()> {
    writeln!(out, "         {:06x}  {:<24} {}", n.offset, hex(&n.bytes), n.text)
}

fn native_json(n: &[NativeInsn]) -> Json {
    Json::Arr(
        n.iter()
            .map(|n| {
                Json::obj([
                    ("offset", Json::U64(n.offset as u64)),
                    ("bytes", Json::str(hex(&n.bytes))),
                    ("asm", Json::str(n.text.clone())),
                ])
            })
            .collect(),
    )
}

fn to_json(l: &Listing) -> Json {
    let insns = l
        .insns
        .iter()
        .map(|i| {
            Json::obj([
                ("pc", Json::U64(i.pc as u64)),
                ("insn", Json::str(i.text.clone())),
                ("location", i.location.clone().map_or(Json::Null, Json::Str)),
                ("source", i.source_line.clone().map_or(Json::Null, Json::Str)),
                ("native", native_json(&i.native)),
            ])
        })
        .collect();
    Json::obj([
        ("insns", Json::Arr(insns)),
        ("stubs", native_json(&l.stubs)),
        ("code_size", Json::U64(l.code_size as u64)),
        ("insns_size", Json::U64(l.insns_size as u64)),
        ("compile_ns", Json::U64(l.compile_time.as_nanos() as u64)),
        (
            "counted_loops",
            Json::Arr(
                l.counted_loops
                    .iter()
                    .map(|c| {
                        Json::obj([
                            ("head", Json::U64(c.head as u64)),
                            ("back", Json::U64(c.back as u64)),
                            ("guard", Json::U64(c.guard as u64)),
                            ("copy", Json::U64(c.copy as u64)),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}
