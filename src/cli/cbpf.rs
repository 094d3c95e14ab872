//! `ebpf-lab cbpf FILE`: a classic BPF program (`tcpdump -dd` output or `bpf_asm` text) beside
//! the eBPF the kernel turns it into, then — given a packet — that eBPF run on every engine.
//! It runs as a `tc` program by default, whose packet starts at the Ethernet header as on the
//! packet socket tcpdump filters (`--prog-type socket`: from the IP header, as an IP socket's
//! filter sees it). `-o OUT.s` writes the eBPF as assembly for `run`, `check` or an exercise.

use super::input::InputArgs;
use super::json::Json;
use super::{Ctx, EXIT_INPUT, EXIT_PROGRAM};
use crate::asm::{disasm, Syntax};
use crate::cbpf;
use crate::diag::{self, Diagnostic};
use crate::engine::{self, EngineOptions};
use crate::kernel::LoadOptions;
use crate::program::{ProgType, Program, Source};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `cbpf`.
#[derive(Args, Debug)]
pub struct CbpfArgs {
    /// The classic program: `tcpdump -dd` lines (`{ 0x28, 0, 0, 0x0000000c },`) or `bpf_asm` text.
    file: PathBuf,
    /// Write the converted eBPF program here, as assembly.
    #[arg(short = 'o', long, value_name = "OUT.s")]
    output: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    input: InputArgs,
}

/// Why each prologue instruction is there.
const PROLOGUE: [&str; 3] = ["A = 0", "X = 0", "the context (skb) stays in r6"];

/// Runs `cbpf`.
pub fn run(ctx: &Ctx, args: CbpfArgs) -> i32 {
    let name = args.file.display().to_string();
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => {
            eprint!("{}", diag::render(None, &Diagnostic::error(format!("{name}: {e}"), None), ctx.color_err));
            return EXIT_INPUT;
        }
    };
    let source = Source { name, text };
    // A program that does not read or convert: the diagnostic on stderr, and with --json the
    // same words on stdout for a script.
    let refuse = |d: Diagnostic| {
        eprint!("{}", diag::render(Some(&source), &d, ctx.color_err));
        if args.json {
            let (line, col) = d.span.as_ref().map_or((0, 0), |s| source.line_col(s.start));
            let error = Json::obj([
                ("error", Json::str(&d.message)),
                ("line", Json::U64(line as u64)),
                ("column", Json::U64(col as u64)),
            ]);
            let _ = writeln!(std::io::stdout(), "{}", error.render());
        }
        EXIT_INPUT
    };
    let parsed = match cbpf::parse(&source.text) {
        Ok(p) => p,
        Err((message, span)) => return refuse(Diagnostic::error(message, Some(span))),
    };
    let converted = match cbpf::convert(&parsed.insns) {
        Ok(c) => c,
        Err((at, message)) => return refuse(Diagnostic::error(message, parsed.spans.get(at).cloned())),
    };
    // tcpdump's filters run on a packet socket, which sees the frame from its Ethernet header:
    // so do tc programs, and socket filters' test runs start at the IP header.
    let mut program = Program { insns: converted.insns.clone(), prog_type: ProgType::Tc, ..Program::default() };
    match args.input.prog_type(&program) {
        Ok(t) => program.prog_type = t,
        Err(e) => {
            eprint!("{}", diag::render(None, &Diagnostic::error(e, None), ctx.color_err));
            return EXIT_INPUT;
        }
    }
    if let Some(path) = &args.output {
        let asm = format!(
            "# {} converted from classic BPF by `ebpf-lab cbpf` (A = r0, X = r7, M[k] at r10 - (4k + 4))\n{}",
            source.name,
            disasm::disassemble(&program, Syntax::Llvm)
        );
        if let Err(e) = super::write_atomic(path, asm.as_bytes()) {
            let d = Diagnostic::error(format!("{}: {e}", path.display()), None);
            eprint!("{}", diag::render(None, &d, ctx.color_err));
            return EXIT_INPUT;
        }
    }
    let ebpf = |i: usize| disasm::format_insn(&converted.insns[i], Syntax::Llvm, &Default::default());
    let has_input = args.input.packet.is_some() || args.input.packet_hex.is_some() || !args.input.ctx.is_empty();
    let runs = if has_input { run_everywhere(ctx, &program, &args.input) } else { Ok(vec![]) };
    let runs = match runs {
        Ok(r) => r,
        Err(code) => return code,
    };
    let agree = runs.windows(2).all(|w| w[0].1 == w[1].1);
    if args.json {
        let classic = parsed
            .insns
            .iter()
            .zip(&converted.ranges)
            .enumerate()
            .map(|(i, (c, r))| {
                Json::obj([
                    ("classic", Json::str(c.text(i))),
                    ("code", Json::U64(c.code.into())),
                    ("ebpf", Json::Arr(r.clone().map(|j| Json::str(ebpf(j))).collect())),
                ])
            })
            .collect();
        let runs = runs
            .iter()
            .map(|(engine, r)| match r {
                Ok(r0) => Json::obj([("engine", Json::str(*engine)), ("r0", Json::U64(*r0))]),
                Err(e) => Json::obj([("engine", Json::str(*engine)), ("error", Json::str(e))]),
            })
            .collect();
        let prologue = (0..converted.prologue).map(|j| Json::str(ebpf(j))).collect();
        let out = Json::obj([
            ("prologue", Json::Arr(prologue)),
            ("insns", Json::Arr(classic)),
            ("runs", Json::Arr(runs)),
            ("agree", Json::Bool(agree)),
        ]);
        let _ = writeln!(std::io::stdout(), "{}", out.render());
    } else {
        let mut text = String::new();
        let w = parsed.insns.iter().enumerate().map(|(i, c)| c.text(i).len()).max().unwrap_or(0).max(7) + 5;
        text.push_str(&format!("{:w$}  eBPF (the kernel's conversion)\n", "classic"));
        for (j, why) in PROLOGUE.iter().enumerate().take(converted.prologue) {
            text.push_str(&format!("{:w$}  {j:>3}: {:<28} # {why}\n", "", ebpf(j)));
        }
        for (i, (c, r)) in parsed.insns.iter().zip(&converted.ranges).enumerate() {
            for (n, j) in r.clone().enumerate() {
                let left = if n == 0 { format!("{i:>3}: {}", c.text(i)) } else { String::new() };
                text.push_str(&format!("{left:w$}  {j:>3}: {}\n", ebpf(j)));
            }
        }
        if !runs.is_empty() {
            text.push('\n');
            for (engine, r) in &runs {
                match r {
                    Ok(r0) => text.push_str(&format!("{engine:>8}: r0 = {r0} (keep {r0} bytes of the packet)\n")),
                    Err(e) => text.push_str(&format!("{engine:>8}: {e}\n")),
                }
            }
            text.push_str(if agree { "all engines agree\n" } else { "the engines disagree\n" });
        }
        let _ = std::io::stdout().write_all(text.as_bytes());
    }
    if agree {
        0
    } else {
        EXIT_PROGRAM
    }
}

/// Runs `program` on every engine that can run here (the kernel needs root): r0 or the error.
type Runs = Vec<(&'static str, Result<u64, String>)>;

fn run_everywhere(ctx: &Ctx, program: &Program, input: &InputArgs) -> Result<Runs, i32> {
    let built = input.build(program).map_err(|e| {
        eprint!("{}", diag::render(None, &Diagnostic::error(e, None), ctx.color_err));
        EXIT_INPUT
    })?;
    let options =
        EngineOptions { kernel: LoadOptions { log_level: 1, ..LoadOptions::default() }, ..Default::default() };
    let kernel_ok = crate::kernel::availability().is_ok();
    let mut runs = Vec::new();
    for &name in engine::ENGINES {
        if name == "kernel" && !kernel_ok {
            continue;
        }
        let r = engine::open(name, program, &options, &built.input)
            .and_then(|mut e| e.run(&built.input))
            .map(|run| run.outcome.r0 & if run.r0_bits >= 64 { u64::MAX } else { (1 << run.r0_bits) - 1 })
            .map_err(|e| e.to_string());
        runs.push((name, r));
    }
    Ok(runs)
}
