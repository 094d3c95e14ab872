//! `ebpf-lab check PROG`: the kernel's verdict on the program, then the same input on every
//! engine, side by side, with every difference marked.
//!
//! Exit 0 when all engines agree, 1 on any difference (a rejection counts: the kernel would not
//! run the program), 2 when the kernel is unavailable or the input is bad.

use super::input::{InputArgs, RunInput};
use super::json::{hex, Json};
use super::run::{globals_json, render_engine_error, run_json, show_bytes, show_key, MapChange};
use super::{Ctx, SyntaxArg, EXIT_INPUT, EXIT_PROGRAM};
use crate::diag::{self, Diagnostic};
use crate::engine::{self, Engine, EngineError, EngineOptions, EngineRun, MapEntries};
use crate::interp::{RunOptions, Vm};
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

/// With `--json`, the answer to a check that could not start: no agreement, and why.
fn refused_json(json: bool, error: &str) {
    if json {
        let out = Json::obj([("agree", Json::Bool(false)), ("error", Json::str(error)), ("exit", Json::U64(2))]);
        println!("{}", out.render());
    }
}

/// Runs `check`.
pub fn run(ctx: &Ctx, args: CheckArgs) -> i32 {
    // Bad input and an unavailable kernel end the check before any engine runs; with --json
    // they are answered in JSON too.
    let refuse = |message: String, help: Option<String>| {
        eprint!("{}", diag::render(None, &Diagnostic::error(message.clone(), None).with_help(help), ctx.color_err));
        refused_json(args.json, &message);
        EXIT_INPUT
    };
    let (program, built) = match super::load_for_run_explained(ctx, &args.file, args.syntax, &args.input) {
        Ok(loaded) => loaded,
        Err((code, message)) => {
            refused_json(args.json, &message);
            return code;
        }
    };
    if let Err(e) = built.check_for_kernel() {
        return refuse(e, None);
    }
    if let Err(why) = kernel::availability() {
        return refuse(
            format!("the kernel is unavailable: {why}"),
            Some("`check` compares against the running kernel: run as root (or with CAP_BPF)".into()),
        );
    }
    let log_level = args.log_level.unwrap_or(if args.log { 2 } else { 1 });
    let options = EngineOptions {
        run: RunOptions { ncpus: kernel::possible_cpus() as u32, ..RunOptions::default() },
        kernel: LoadOptions { log_level, ..LoadOptions::default() },
        ..EngineOptions::default()
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

    // Types the kernel cannot test-run: its column ran the bytecode as another type; say so once.
    let substitute = crate::kernel::backend::test_run_substitute(program.prog_type);
    let varying = varying_helpers(&program);
    let unstable = if varying.is_empty() { Vec::new() } else { unstable_rows(&program, &options, &built, &columns) };
    let (mut differences, varied) = split_varying(differences(&program, &columns), &unstable);
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
        differences.push(Difference {
            row: "verifier".into(),
            text: format!("verifier: ebpf-lab's verifier {ours_text}, the kernel's does not agree"),
        });
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
                    let mut json = run_json(c.name, program.prog_type, run, &changes);
                    if let Json::Obj(fields) = &mut json {
                        fields.push(("globals".into(), globals_json(&program, &changes)));
                    }
                    json
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
            ("differences", Json::Arr(differences.iter().map(|d| Json::str(d.text.clone())).collect())),
            ("varying", Json::Arr(varied.iter().map(|d| Json::str(d.text.clone())).collect())),
            ("varying_helpers", Json::Arr(varying.iter().map(|h| Json::str(h.clone())).collect())),
            ("ebpf_lab_verifier", super::verify::json(&program, &ours)),
            ("kernel_run_as", substitute.as_ref().map_or(Json::Null, |s| Json::str(s.clone()))),
        ]);
        println!("{}", out.render());
    } else {
        print_table(&program, &columns, &differences, &varied);
        println!("  ebpf-lab verifier: {ours_text}");
        for u in &undefined {
            println!("  note: {u} (an undefined value: engines may differ here without disagreeing)");
        }
        if let Some(s) = &substitute {
            println!("  note: {s}");
        }
        if args.log || args.log_level.is_some() {
            println!("\nkernel verifier log:\n{}", kernel_log.trim_end());
        }
        for e in &engine_errors {
            eprint!("{}", render_engine_error(ctx, &program, e));
        }
        if !varied.is_empty() {
            println!(
                "\n~ rows depend on what {} returns, which differs between runs (or boots): not counted as \
                 engine differences",
                varying.join(", ")
            );
        }
        if differences.is_empty() {
            println!("\nall engines agree");
        } else {
            println!("\n{} difference(s):", differences.len());
            for d in &differences {
                println!("  - {}", d.text);
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

fn entries_text(def: &crate::program::MapDef, e: &MapEntries) -> String {
    if e.is_empty() {
        return "{}".into();
    }
    let nonzero: Vec<String> = e
        .iter()
        .filter(|(_, v)| v.iter().any(|b| *b != 0))
        .map(|(k, v)| format!("{}: {}", show_key(def, k), show_bytes(v)))
        .collect();
    let zero = e.len() - nonzero.len();
    let mut s = format!("{{{}}}", nonzero.join(", "));
    if zero > 0 {
        s.push_str(&format!(" +{zero} zero"));
    }
    s
}

fn out_text(o: Option<&[u8]>) -> String {
    match o {
        None => "-".into(),
        Some(b) if b.len() > 24 => format!("{} B {}…", b.len(), hex(&b[..12])),
        Some(b) => format!("{} B {}", b.len(), hex(b)),
    }
}

/// One way the engines' results differ: the table row it is on and what it is, in words.
struct Difference {
    row: String,
    text: String,
}

/// The helpers `program` calls whose results vary between runs (clocks, random numbers, the
/// CPU), by C name: values derived from them cannot agree between engines.
fn varying_helpers(program: &Program) -> Vec<String> {
    use crate::isa::{CallTarget, Insn};
    let mut names: Vec<String> = program
        .insns
        .iter()
        .filter_map(|i| match i {
            Insn::Call(CallTarget::Helper(id)) if crate::runtime::helpers::varies_between_runs(*id as u32) => {
                crate::runtime::helpers::helper(*id as u32).map(|h| h.c_name())
            }
            _ => None,
        })
        .collect();
    names.sort();
    names.dedup();
    names
}

/// Every way the engines' results differ.
fn differences(program: &Program, cols: &[Column]) -> Vec<Difference> {
    let mut diffs = Vec::new();
    let mut push = |row: &str, text: String| diffs.push(Difference { row: row.to_string(), text });
    for c in cols {
        if c.result.is_err() {
            // The error itself is shown once, as a diagnostic on the source.
            let what = if c.verdict.starts_with("REJECTED") { "rejected the program" } else { "stopped with an error" };
            push("verdict", format!("{}: {what}", c.name));
        }
    }
    let ran: Vec<(&Column, &EngineRun)> = cols.iter().filter_map(|c| c.result.as_ref().ok().map(|r| (c, r))).collect();
    for pair in ran.windows(2) {
        let ((ca, a), (cb, b)) = (pair[0], pair[1]);
        let bits = a.r0_bits.min(b.r0_bits);
        let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
        if a.outcome.r0 & mask != b.outcome.r0 & mask {
            push("r0", format!("r0: {} says {}, {} says {}", ca.name, r0_text(a), cb.name, r0_text(b)));
        }
        for (i, def) in program.maps.iter().enumerate() {
            if ca.maps.get(i) == cb.maps.get(i) || !comparable(def, ca, cb) {
                continue;
            }
            // Global variables differ one by one; bytes outside any variable as the map.
            let vars = global_rows(program, i, ca).into_iter().zip(global_rows(program, i, cb));
            let differing: Vec<_> = vars.filter(|(a, b)| a != b).collect();
            for ((row, va), (_, vb)) in &differing {
                push(row, format!("{row}: {} has {va}, {} has {vb}", ca.name, cb.name));
            }
            if differing.is_empty() {
                let row = format!("map {}", def.name);
                push(
                    &row,
                    format!(
                        "{row}: {} has {}, {} has {}",
                        ca.name,
                        entries_text(def, &ca.maps[i]),
                        cb.name,
                        entries_text(def, &cb.maps[i])
                    ),
                );
            }
        }
        if let (Some(pa), Some(pb)) = (&a.outcome.packet_out, &b.outcome.packet_out) {
            if pa != pb {
                push(
                    "packet out",
                    format!(
                        "packet out: {} has {}, {} has {}",
                        ca.name,
                        out_text(Some(pa)),
                        cb.name,
                        out_text(Some(pb))
                    ),
                );
            }
        }
        // The kernel's test run does not say where a redirect went: engines compare among themselves.
        if ![ca.name, cb.name].contains(&"kernel") && a.outcome.redirect() != b.outcome.redirect() {
            let show = |r: Option<&str>| r.unwrap_or("none").to_string();
            push(
                "redirect",
                format!(
                    "redirect: {} has {}, {} has {}",
                    ca.name,
                    show(a.outcome.redirect()),
                    cb.name,
                    show(b.outcome.redirect())
                ),
            );
        }
        if let (Some(xa), Some(xb)) = (&a.outcome.ctx_out, &b.outcome.ctx_out) {
            if xa != xb {
                push(
                    "ctx out",
                    format!("ctx out: {} has {}, {} has {}", ca.name, out_text(Some(xa)), cb.name, out_text(Some(xb))),
                );
            }
        }
    }
    diffs
}

/// Whether map `def` can be compared between columns `a` and `b`: the kernel's perf event
/// records and AF_XDP sockets are not read back.
fn comparable(def: &crate::program::MapDef, a: &Column, b: &Column) -> bool {
    use crate::program::MapType;
    !(matches!(def.map_type, MapType::PerfEventArray | MapType::Xskmap) && (a.name == "kernel" || b.name == "kernel"))
}

/// The rows of map `index` if it holds global variables: ("global NAME", value) for each.
fn global_rows(program: &Program, index: usize, col: &Column) -> Vec<(String, String)> {
    let Some(g) = crate::global_data::section_of_map(program, index) else { return Vec::new() };
    let value = col.maps.get(index).and_then(|e| e.first()).map_or(&[][..], |(_, v)| v.as_slice());
    g.vars
        .iter()
        .map(|v| {
            let bytes = g.var_bytes(v, value);
            let shown = if bytes.is_empty() { "-".into() } else { crate::global_data::show_value(bytes) };
            (format!("global {}", v.name), shown)
        })
        .collect()
}

/// The rows whose values move when only the clock, the random numbers and the CPU do: the
/// interpreter runs the program a second time with another clock start, seed and CPU, and every
/// row where the two interpreter runs differ depends on them. If that run fails, every row is
/// taken to depend on them.
fn unstable_rows(program: &Program, options: &EngineOptions, built: &RunInput, cols: &[Column]) -> Vec<String> {
    let Some(first) = cols.iter().find(|c| c.name == "interp") else { return Vec::new() };
    let mut run = options.run.clone();
    run.seed ^= 0x9e37_79b9_7f4a_7c15;
    run.clock_start = run.clock_start.wrapping_mul(7).wrapping_add(123_456_789);
    if program.insns.iter().any(|i| matches!(i, crate::isa::Insn::Call(crate::isa::CallTarget::Helper(8 | 42)))) {
        run.cpu = (run.cpu + 1) % run.ncpus.max(2);
        run.ncpus = run.ncpus.max(2);
    }
    let all = || {
        let mut rows = vec!["r0".to_string(), "packet out".into(), "ctx out".into()];
        rows.extend(program.maps.iter().map(|m| format!("map {}", m.name)));
        for g in &program.globals {
            rows.extend(g.vars.iter().map(|v| format!("global {}", v.name)));
        }
        rows
    };
    let Ok(mut vm) = Vm::with_options(program, run) else { return all() };
    if built.fills.iter().any(|f| Engine::map_update(&mut vm, &f.map, &f.key, &f.value).is_err()) {
        return all();
    }
    let Ok(outcome) = vm.run(&built.input) else { return all() };
    let second = Column {
        name: "interp",
        verdict: first.verdict.clone(),
        result: Ok(EngineRun { outcome, r0_bits: 64 }),
        maps: program.maps.iter().map(|m| sorted(Engine::map_entries(&vm, &m.name).unwrap_or_default())).collect(),
    };
    let same_first = Column {
        name: first.name,
        verdict: first.verdict.clone(),
        result: first.result.clone(),
        maps: first.maps.clone(),
    };
    differences(program, &[same_first, second]).into_iter().map(|d| d.row).collect()
}

/// Splits `diffs` into engine differences and rows that differ because they depend on a clock,
/// random numbers or the CPU (`unstable`): a verdict difference always counts.
fn split_varying(diffs: Vec<Difference>, unstable: &[String]) -> (Vec<Difference>, Vec<Difference>) {
    diffs.into_iter().partition(|d| d.row == "verdict" || !unstable.contains(&d.row))
}

fn print_table(program: &Program, cols: &[Column], diffs: &[Difference], varied: &[Difference]) {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    rows.push(("verdict".into(), cols.iter().map(|c| c.verdict.clone()).collect()));
    let cell = |c: &Column, f: &dyn Fn(&EngineRun) -> String| c.result.as_ref().map_or("-".to_string(), f);
    rows.push(("r0".into(), cols.iter().map(|c| cell(c, &r0_text)).collect()));
    for (i, def) in program.maps.iter().enumerate() {
        if let Some(g) = crate::global_data::section_of_map(program, i) {
            // A row per variable; string literals (read-only, no variables) are not shown.
            let per_col: Vec<Vec<(String, String)>> = cols.iter().map(|c| global_rows(program, i, c)).collect();
            for (k, v) in g.vars.iter().enumerate() {
                let label = format!("global {}", v.name);
                rows.push((label, per_col.iter().map(|r| r.get(k).map_or("-".into(), |(_, s)| s.clone())).collect()));
            }
            if !g.vars.is_empty() || g.read_only {
                continue;
            }
        }
        let unread = matches!(def.map_type, crate::program::MapType::PerfEventArray | crate::program::MapType::Xskmap);
        rows.push((
            format!("map {}", def.name),
            cols.iter()
                .map(|c| match c.maps.get(i) {
                    _ if unread && c.name == "kernel" => "(not read)".into(),
                    Some(e) => entries_text(def, e),
                    None => "-".into(),
                })
                .collect(),
        ));
    }
    if cols.iter().any(|c| c.result.as_ref().is_ok_and(|r| r.outcome.packet_out.is_some())) {
        rows.push((
            "packet out".into(),
            cols.iter().map(|c| cell(c, &|r| out_text(r.outcome.packet_out.as_deref()))).collect(),
        ));
    }
    if cols.iter().any(|c| c.result.as_ref().is_ok_and(|r| r.outcome.redirect().is_some())) {
        rows.push((
            "redirect".into(),
            cols.iter()
                .map(|c| match &c.result {
                    Ok(_) if c.name == "kernel" => "(not told)".into(),
                    Ok(r) => r.outcome.redirect().unwrap_or("-").into(),
                    Err(_) => "-".into(),
                })
                .collect(),
        ));
    }
    if cols.iter().any(|c| c.result.as_ref().is_ok_and(|r| r.outcome.ctx_out.is_some())) {
        rows.push((
            "ctx out".into(),
            cols.iter().map(|c| cell(c, &|r| out_text(r.outcome.ctx_out.as_deref()))).collect(),
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
        // A mark only where a counted difference is: cells can differ in form (r0 "(low 32)",
        // a `-` where one engine has no such output) without being a difference.
        let mark = if diffs.iter().any(|d| &d.row == label) {
            "≠"
        } else if varied.iter().any(|d| &d.row == label) {
            "~"
        } else {
            " "
        };
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
