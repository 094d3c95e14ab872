//! `ebpf-lab verify PROG`: ebpf-lab's own static verifier, no root and no kernel needed. A
//! rejection is one diagnostic on the guilty source line with the kernel's message, the path of
//! branches that led there, the registers involved in words, and the usual fix.

use super::input::InputArgs;
use super::json::Json;
use super::{Ctx, SyntaxArg, EXIT_PROGRAM};
use crate::diag::{self, Diagnostic, Severity};
use crate::program::Program;
use crate::verifier::{self, Verification, VerifyOptions};
use clap::Args;
use std::path::PathBuf;

/// Arguments of `verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The program: assembly (`.s`), raw bytecode (`.bin`), hex text or an ELF object.
    file: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    /// Log detail in the kernel's format: 0 none, 1 instructions, 2 with register states.
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=2))]
    log_level: u32,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// Syntax of the file, when it is assembly.
    #[arg(long, value_enum)]
    syntax: Option<SyntaxArg>,
    /// Also write a self-contained HTML report (states per instruction, the graph) to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

/// The options a run's input implies: a `mem` program is verified for its buffer's length.
pub fn options_for(input: &crate::interp::Input, log_level: u32) -> VerifyOptions {
    let mem_len = match input {
        crate::interp::Input::Mem(data) => data.len() as u32,
        _ => 0,
    };
    VerifyOptions { log_level, mem_len, ..VerifyOptions::default() }
}

/// Index into `program.insns` of the instruction at slot `slot`.
fn insn_index(program: &Program, slot: usize) -> Option<usize> {
    program.slot_pcs().iter().position(|&s| s == slot)
}

/// `file:line` of the instruction at `slot`, or `insn N` without a source.
fn place(program: &Program, slot: usize) -> String {
    let line = insn_index(program, slot).and_then(|i| {
        let src = program.source.as_ref()?;
        let span = program.span(i)?;
        let (line, _) = src.line_col(span.start);
        let text = src.text.lines().nth(line - 1)?.trim();
        Some(format!("line {line} `{text}`"))
    });
    line.unwrap_or_else(|| format!("insn {slot}"))
}

fn line_of(program: &Program, slot: usize) -> Json {
    insn_index(program, slot)
        .and_then(|i| {
            let src = program.source.as_ref()?;
            Some(Json::U64(src.line_col(program.span(i)?.start).0 as u64))
        })
        .unwrap_or(Json::Null)
}

/// The rejection as one diagnostic: message on the guilty line, path and registers as notes.
pub fn rejection_diagnostic(program: &Program, v: &Verification) -> Option<Diagnostic> {
    let e = v.error.as_ref()?;
    let span = e.insn.and_then(|s| insn_index(program, s)).and_then(|i| program.span(i));
    let mut d =
        Diagnostic::error(format!("the verifier rejects the program: {}", e.message), span).with_help(e.hint.clone());
    // The message is said once, in the header; the caret says where.
    d.label = Some("rejected here".into());
    if !e.path.is_empty() {
        // A loop repeats the same steps: say each run of equal steps once, with its count.
        let mut steps: Vec<(String, usize)> = Vec::new();
        for p in &e.path {
            let way = if p.taken { "jumped" } else { "fell through" };
            let text = format!("{}: {way} to {}", place(program, p.insn), place(program, p.to));
            match steps.last_mut() {
                Some((last, n)) if *last == text => *n += 1,
                _ => steps.push((text, 1)),
            }
        }
        let steps: Vec<String> =
            steps.into_iter().map(|(t, n)| if n > 1 { format!("{t} (x{n})") } else { t }).collect();
        d = d.with_note(format!("path to here:\n    {}", steps.join("\n    ")));
    }
    for r in &e.regs {
        d = d.with_note(format!("r{}: {}  (kernel: R{}={})", r.reg, r.words, r.reg, r.kernel));
    }
    Some(d)
}

/// The stats line as the kernel's log ends.
pub fn stats_line(v: &Verification) -> String {
    let s = v.stats;
    format!(
        "processed {} insns (limit {}) max_states_per_insn {} total_states {} peak_states {} mark_read {}",
        s.processed,
        verifier::COMPLEXITY_LIMIT_INSNS,
        s.max_states_per_insn,
        s.total_states,
        s.peak_states,
        s.mark_read
    )
}

/// Warnings as diagnostics on their lines.
pub fn render_warnings(program: &Program, v: &Verification, color: bool) -> String {
    v.warnings
        .iter()
        .map(|w| {
            let span = insn_index(program, w.insn).and_then(|i| program.span(i));
            let mut d = Diagnostic::error(w.message.clone(), span);
            d.severity = Severity::Warning;
            diag::render(program.source.as_ref(), &d, color)
        })
        .collect()
}

/// The verification as JSON: verdict, message, instruction, line, path, registers, stats, warnings.
pub fn json(program: &Program, v: &Verification) -> Json {
    let e = v.error.as_ref();
    let s = v.stats;
    Json::obj([
        ("verdict", Json::str(if e.is_some() { "rejected" } else { "accepted" })),
        ("message", e.map_or(Json::Null, |e| Json::str(&e.message))),
        ("insn", e.and_then(|e| e.insn).map_or(Json::Null, |i| Json::U64(i as u64))),
        ("line", e.and_then(|e| e.insn).map_or(Json::Null, |i| line_of(program, i))),
        ("hint", e.and_then(|e| e.hint.clone()).map_or(Json::Null, Json::Str)),
        (
            "path",
            Json::Arr(e.map_or(vec![], |e| {
                e.path
                    .iter()
                    .map(|p| {
                        Json::obj([
                            ("insn", Json::U64(p.insn as u64)),
                            ("line", line_of(program, p.insn)),
                            ("to", Json::U64(p.to as u64)),
                            ("taken", Json::Bool(p.taken)),
                        ])
                    })
                    .collect()
            })),
        ),
        (
            "registers",
            Json::Arr(e.map_or(vec![], |e| {
                e.regs
                    .iter()
                    .map(|r| {
                        Json::obj([
                            ("reg", Json::U64(r.reg as u64)),
                            ("words", Json::str(&r.words)),
                            ("kernel", Json::str(&r.kernel)),
                        ])
                    })
                    .collect()
            })),
        ),
        (
            "stats",
            Json::obj([
                ("processed", Json::U64(s.processed)),
                ("max_states_per_insn", Json::U64(s.max_states_per_insn)),
                ("total_states", Json::U64(s.total_states)),
                ("peak_states", Json::U64(s.peak_states)),
            ]),
        ),
        (
            "warnings",
            Json::Arr(
                v.warnings
                    .iter()
                    .map(|w| {
                        Json::obj([
                            ("insn", Json::U64(w.insn as u64)),
                            ("line", line_of(program, w.insn)),
                            ("message", Json::str(&w.message)),
                        ])
                    })
                    .collect(),
            ),
        ),
    ])
}

/// Runs `verify`.
pub fn run(ctx: &Ctx, args: VerifyArgs) -> i32 {
    let (program, built) = match super::load_for_run(ctx, &args.file, args.syntax, &args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let v = verifier::verify(&program, &options_for(&built.input, args.log_level));
    if let Some(path) = &args.html {
        if let Err(code) = super::report::write_html(ctx, &program, &built.input, &args.file, path) {
            return code;
        }
    }
    if args.json {
        println!("{}", json(&program, &v).render());
        return if v.accepted() { 0 } else { EXIT_PROGRAM };
    }
    if !v.log.is_empty() {
        print!("{}", v.log);
    }
    match rejection_diagnostic(&program, &v) {
        Some(d) => {
            eprint!("{}", diag::render(program.source.as_ref(), &d, ctx.color_err));
            EXIT_PROGRAM
        }
        None => {
            eprint!("{}", render_warnings(&program, &v, ctx.color_err));
            println!("accepted ({} program)", program.prog_type);
            if args.log_level == 0 {
                println!("{}", stats_line(&v));
            }
            0
        }
    }
}
