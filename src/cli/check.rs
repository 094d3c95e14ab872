//! `ebpf-lab check PROG`: the kernel's verdict on the program, then the same input on every
//! engine, side by side, with every difference marked.
//!
//! Exit 0 when all engines agree, 1 on any difference (a rejection counts: the kernel would not
//! run the program), 2 when the kernel is unavailable or the input is bad.

use super::input::InputArgs;
use super::json::{hex, Json};
use super::run::{render_engine_error, run_json, show_bytes, MapChange};
use super::{Ctx, SyntaxArg, EXIT_INPUT, EXIT_PROGRAM};
use crate::diag::{self, Diagnostic};
use crate::engine::{self, Engine, EngineError, EngineOptions, EngineRun, MapEntries};
use crate::interp::RunOptions;
use crate::kernel::{self, KernelEngine, LoadOptions};
use crate::program::Program;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The program: assembly (`.s`), raw bytecode (`.bin`) or hex text.
    file: PathBuf,
    #[command(flatten)]
    input: InputArgs,
    /// Print the kernel verifier's log (level 2: every instruction with the register state).
    #[arg(long)]
    log: bool,
    /// Verifier log level (1, 2 or 4); implies --log.
    #[arg(long, value_name = "N")]
    log_level: Option<u32>,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// Syntax of the file, when it is assembly.
    #[arg(long, value_enum)]
    syntax: Option<SyntaxArg>,
}

/// What one engine produced.
struct Column {
    name: &'static str,
    verdict: String,
    result: Result<EngineRun, String>,
    maps: Vec<MapEntries>,
}

fn sorted(mut e: MapEntries) -> MapEntries {
    e.sort();
    e
}

/// Runs `check`.
pub fn run(ctx: &Ctx, args: CheckArgs) -> i32 {
    let (program, built) = match super::load_for_run(ctx, &args.file, args.syntax, &args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    if let Err(why) = kernel::availability() {
        let d = Diagnostic::error(format!("the kernel is unavailable: {why}"), None)
            .with_help(Some("`check` compares against the running kernel: run as root (or with CAP_BPF)".into()));
        eprint!("{}", diag::render(None, &d, ctx.color_err));
        return EXIT_INPUT;
    }
    let log_level = args.log_level.unwrap_or(if args.log { 2 } else { 1 });
    let options = EngineOptions {
        run: RunOptions { ncpus: kernel::possible_cpus() as u32, ..RunOptions::default() },
        kernel: LoadOptions { log_level, ..LoadOptions::default() },
    };

    let mut columns = Vec::new();
    let mut kernel_log = String::new();
    // Rejections and runtime errors, shown as diagnostics on the source after the table.
    let mut engine_errors: Vec<EngineError> = Vec::new();
    for &name in engine::ENGINES {
        let mut col = Column { name, verdict: String::new(), result: Err(String::new()), maps: vec![] };
        let opened: Result<Box<dyn Engine>, EngineError> = if name == "kernel" {
            KernelEngine::load(&program, &options.kernel, &built.input).map(|k| {
                let verdict = k.kernel_program().verdict();
                kernel_log = verdict.log.clone();
                col.verdict = match verdict.verified_insns {
                    Some(n) => format!("accepted ({n} insns processed)"),
                    None => "accepted".into(),
                };
                Box::new(k) as Box<dyn Engine>
            })
        } else {
            col.verdict = "loaded".into();
            engine::open(name, &program, &options, &built.input)
        };
        let mut eng = match opened {
            Ok(e) => e,
            Err(e) => {
                if let EngineError::Kernel(_) = e {
                    eprint!("{}", render_engine_error(ctx, &program, &e));
                    return EXIT_INPUT;
                }
                if let EngineError::Rejected { log, .. } = &e {
                    kernel_log = log.clone();
                }
                col.verdict = match &e {
                    EngineError::Rejected { error, log } => match crate::kernel::verifier_log::reason(log) {
                        Some(why) => format!("REJECTED: {why}"),
                        None => format!("REJECTED ({})", error.errno_name()),
                    },
                    other => format!("error: {other}"),
                };
                col.result = Err(e.to_string());
                engine_errors.push(e);
                columns.push(col);
                continue;
            }
        };
        let fill_error = built
            .fills
            .iter()
            .find_map(|f| eng.map_update(&f.map, &f.key, &f.value).err().map(|e| format!("--map {}: {e}", f.map)));
        if let Some(e) = fill_error {
            col.result = Err(e);
        } else {
            match eng.run(&built.input) {
                Ok(run) => col.result = Ok(run),
                Err(e) => {
                    col.verdict = "runtime error".into();
                    col.result = Err(e.to_string());
                    engine_errors.push(e);
                }
            }
        }
        col.maps = program.maps.iter().map(|m| sorted(eng.map_entries(&m.name).unwrap_or_default())).collect();
        columns.push(col);
    }

    let mut differences = differences(&program, &columns);
    // ebpf-lab's own verifier beside the kernel's verdict: a different verdict is a difference.
    let ours = crate::verifier::verify(&program, &super::verify::options_for(&built.input, 0));
    let ours_text = match &ours.error {
        None => format!("accepted ({} insns processed)", ours.stats.processed),
        Some(e) => format!(
            "REJECTED{}: {}",
            e.insn.map_or(String::new(), |i| format!(" at insn {i}")),
            e.message.lines().next().unwrap_or("")
        ),
    };
    let kernel_accepts = columns.iter().find(|c| c.name == "kernel").is_some_and(|c| c.verdict.starts_with("accepted"));
    if kernel_accepts != ours.accepted() {
        differences.push(format!("verifier: ebpf-lab's verifier {ours_text}, the kernel's does not agree"));
    }
    let undefined: Vec<String> = ours.warnings.iter().map(|w| format!("insn {}: {}", w.insn, w.message)).collect();
    if args.json {
        let engines = columns
            .iter()
            .map(|c| match &c.result {
                Ok(run) => {
                    let changes: Vec<MapChange> = program
                        .maps
                        .iter()
                        .zip(&c.maps)
                        .map(|(def, after)| MapChange { def, before: vec![], after: after.clone() })
                        .collect();
                    run_json(c.name, program.prog_type, run, &changes)
                }
                Err(e) => Json::obj([
                    ("engine", Json::str(c.name)),
                    ("verdict", Json::str(&c.verdict)),
                    ("error", Json::str(e.clone())),
                ]),
            })
            .collect();
        let out = Json::obj([
            ("agree", Json::Bool(differences.is_empty())),
            (
                "kernel_verdict",
                Json::str(columns.iter().find(|c| c.name == "kernel").map_or("", |c| c.verdict.as_str())),
            ),
            (
                "kernel_log",
                if args.log || args.log_level.is_some() { Json::str(kernel_log.clone()) } else { Json::Null },
            ),
            ("engines", Json::Arr(engines)),
            ("differences", Json::Arr(differences.iter().map(|d| Json::str(d.clone())).collect())),
            ("ebpf_lab_verifier", super::verify::json(&program, &ours)),
        ]);
        println!("{}", out.render());
    } else {
        print_table(&program, &columns, &differences);
        println!("  ebpf-lab verifier: {ours_text}");
        for u in &undefined {
            println!("  note: {u} (an undefined value: engines may differ here without disagreeing)");
        }
        if args.log || args.log_level.is_some() {
            println!("\nkernel verifier log:\n{}", kernel_log.trim_end());
        }
        for e in &engine_errors {
            eprint!("{}", render_engine_error(ctx, &program, e));
        }
        if differences.is_empty() {
            println!("\nall engines agree");
        } else {
            println!("\n{} difference(s):", differences.len());
            for d in &differences {
                println!("  - {d}");
            }
        }
    }
    if differences.is_empty() {
        0
    } else {
        EXIT_PROGRAM
    }
}

fn r0_text(run: &EngineRun) -> String {
    if run.r0_bits == 64 {
        format!("{:#x}", run.outcome.r0)
    } else {
        format!("{:#x} (low 32)", run.outcome.r0)
    }
}

fn entries_text(e: &MapEntries) -> String {
    if e.is_empty() {
        return "{}".into();
    }
    let nonzero: Vec<String> = e
        .iter()
        .filter(|(_, v)| v.iter().any(|b| *b != 0))
        .map(|(k, v)| format!("{}: {}", show_bytes(k), show_bytes(v)))
        .collect();
    let zero = e.len() - nonzero.len();
    let mut s = format!("{{{}}}", nonzero.join(", "));
    if zero > 0 {
        s.push_str(&format!(" +{zero} zero"));
    }
    s
}

fn out_text(o: Option<&Vec<u8>>) -> String {
    match o {
        None => "-".into(),
        Some(b) if b.len() > 24 => format!("{} B {}…", b.len(), hex(&b[..12])),
        Some(b) => format!("{} B {}", b.len(), hex(b)),
    }
}

/// Every way the engines' results differ, in words.
fn differences(program: &Program, cols: &[Column]) -> Vec<String> {
    let mut diffs = Vec::new();
    for c in cols {
        if let Err(e) = &c.result {
            let what = if e.is_empty() || c.verdict.starts_with("REJECTED") { &c.verdict } else { e };
            diffs.push(format!("{}: {what}", c.name));
        }
    }
    let ran: Vec<(&Column, &EngineRun)> = cols.iter().filter_map(|c| c.result.as_ref().ok().map(|r| (c, r))).collect();
    for pair in ran.windows(2) {
        let ((ca, a), (cb, b)) = (pair[0], pair[1]);
        let bits = a.r0_bits.min(b.r0_bits);
        let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
        if a.outcome.r0 & mask != b.outcome.r0 & mask {
            diffs.push(format!("r0: {} says {}, {} says {}", ca.name, r0_text(a), cb.name, r0_text(b)));
        }
        for (i, def) in program.maps.iter().enumerate() {
            if ca.maps.get(i) != cb.maps.get(i) {
                diffs.push(format!(
                    "map {}: {} has {}, {} has {}",
                    def.name,
                    ca.name,
                    entries_text(&ca.maps[i]),
                    cb.name,
                    entries_text(&cb.maps[i])
                ));
            }
        }
        if let (Some(pa), Some(pb)) = (&a.outcome.packet_out, &b.outcome.packet_out) {
            if pa != pb {
                diffs.push(format!(
                    "packet out: {} has {}, {} has {}",
                    ca.name,
                    out_text(Some(pa)),
                    cb.name,
                    out_text(Some(pb))
                ));
            }
        }
        if let (Some(xa), Some(xb)) = (&a.outcome.ctx_out, &b.outcome.ctx_out) {
            if xa != xb {
                diffs.push(format!(
                    "ctx out: {} has {}, {} has {}",
                    ca.name,
                    out_text(Some(xa)),
                    cb.name,
                    out_text(Some(xb))
                ));
            }
        }
    }
    diffs
}

fn print_table(program: &Program, cols: &[Column], diffs: &[String]) {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    rows.push(("verdict".into(), cols.iter().map(|c| c.verdict.clone()).collect()));
    let cell = |c: &Column, f: &dyn Fn(&EngineRun) -> String| c.result.as_ref().map_or("-".to_string(), f);
    rows.push(("r0".into(), cols.iter().map(|c| cell(c, &r0_text)).collect()));
    for (i, def) in program.maps.iter().enumerate() {
        rows.push((
            format!("map {}", def.name),
            cols.iter().map(|c| c.maps.get(i).map_or("-".into(), entries_text)).collect(),
        ));
    }
    if cols.iter().any(|c| c.result.as_ref().is_ok_and(|r| r.outcome.packet_out.is_some())) {
        rows.push((
            "packet out".into(),
            cols.iter().map(|c| cell(c, &|r| out_text(r.outcome.packet_out.as_ref()))).collect(),
        ));
    }
    if cols.iter().any(|c| c.result.as_ref().is_ok_and(|r| r.outcome.ctx_out.is_some())) {
        rows.push((
            "ctx out".into(),
            cols.iter().map(|c| cell(c, &|r| out_text(r.outcome.ctx_out.as_ref()))).collect(),
        ));
    }
    let label_w = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0).max(6);
    let col_w: Vec<usize> = (0..cols.len())
        .map(|i| {
            rows.iter().map(|(_, cells)| cells[i].chars().count()).max().unwrap_or(0).max(cols[i].name.len()).min(48)
        })
        .collect();
    let mut header = format!("  {:label_w$}", "");
    for (c, w) in cols.iter().zip(&col_w) {
        header.push_str(&format!("  {:w$}", c.name));
    }
    println!("{}", header.trim_end());
    for (label, cells) in &rows {
        let differs = cells.windows(2).any(|w| w[0] != w[1]) && label != "verdict"
            || (label == "verdict" && cols.iter().any(|c| c.result.is_err()));
        let mark = if differs && !diffs.is_empty() { "≠" } else { " " };
        let mut line = format!("{mark} {label:label_w$}");
        for (cell, w) in cells.iter().zip(&col_w) {
            let cell: String = if cell.chars().count() > *w {
                cell.chars().take(w - 1).collect::<String>() + "…"
            } else {
                cell.clone()
            };
            line.push_str(&format!("  {cell:w$}"));
        }
        println!("{}", line.trim_end());
    }
}
