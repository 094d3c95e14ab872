//! `ebpf-lab run PROG`: run a program on one engine and show r0, the trace_printk output, the
//! maps that changed and the packet or context after the run.

use super::input::InputArgs;
use super::json::{hex, Json};
use super::{Ctx, SyntaxArg, EXIT_INPUT, EXIT_PROGRAM};
use crate::diag::{self, Diagnostic};
use crate::engine::{self, EngineError, EngineOptions, EngineRun, MapEntries};
use crate::interp::RunOptions;
use crate::kernel::LoadOptions;
use crate::program::{MapDef, Program};
use crate::runtime::ctx::describe_return;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The program: assembly (`.s`), raw bytecode (`.bin`) or hex text.
    file: PathBuf,
    /// Engine to run on.
    #[arg(long, default_value = "interp", value_parser = clap::builder::PossibleValuesParser::new(engine::ENGINES))]
    engine: String,
    #[command(flatten)]
    input: InputArgs,
    /// Print every executed instruction with the registers it changed (interpreter).
    #[arg(long)]
    trace: bool,
    /// Machine-readable output.
    #[arg(long)]
    json: bool,
    /// Executed-instruction budget (interpreter).
    #[arg(long, default_value_t = crate::interp::DEFAULT_BUDGET)]
    budget: u64,
    /// Seed of bpf_get_prandom_u32 (interpreter).
    #[arg(long, default_value_t = 0x5eed)]
    seed: u64,
    /// Syntax of the file, when it is assembly.
    #[arg(long, value_enum)]
    syntax: Option<SyntaxArg>,
    /// Run even if ebpf-lab's verifier rejects the program (the interpreter's run-time checks
    /// then show what would have happened).
    #[arg(long)]
    unverified: bool,
}

/// One changed map entry: key, value before (if any), value after (if any).
pub type EntryChange = (Vec<u8>, Option<Vec<u8>>, Option<Vec<u8>>);

/// A map's contents before and after, for showing what changed.
pub struct MapChange<'a> {
    /// The map.
    pub def: &'a MapDef,
    /// Entries before the run.
    pub before: MapEntries,
    /// Entries after the run.
    pub after: MapEntries,
}

impl MapChange<'_> {
    /// Entries whose value changed, appeared or disappeared: (key, before, after).
    pub fn changed(&self) -> Vec<EntryChange> {
        let mut keys: Vec<&Vec<u8>> = self.before.iter().chain(&self.after).map(|(k, _)| k).collect();
        keys.sort();
        keys.dedup();
        let find = |set: &MapEntries, k: &Vec<u8>| set.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.clone());
        keys.into_iter()
            .filter_map(|k| {
                let (b, a) = (find(&self.before, k), find(&self.after, k));
                (b != a).then(|| (k.clone(), b, a))
            })
            .collect()
    }
}

/// Shows bytes as an unsigned little-endian integer when they have an integer's size.
pub fn show_bytes(b: &[u8]) -> String {
    match b.len() {
        1 | 2 | 4 | 8 => {
            let mut v = [0u8; 8];
            v[..b.len()].copy_from_slice(b);
            let n = u64::from_le_bytes(v);
            if n < 10 {
                n.to_string()
            } else {
                format!("{n} ({n:#x})")
            }
        }
        _ => hex(b),
    }
}

/// Renders a runtime error or a kernel rejection as diagnostics on the source.
pub fn render_engine_error(ctx: &Ctx, program: &Program, e: &EngineError) -> String {
    match e {
        EngineError::Runtime(re) => {
            let span = re.index.and_then(|i| program.span(i));
            // With a source the location is the snippet's first line, so say only what happened.
            let message = match (re.pc, span.is_some()) {
                (Some(pc), true) => format!("insn {pc}: {}", re.kind),
                _ => re.to_string(),
            };
            let d = Diagnostic::error(message, span);
            diag::render(program.source.as_ref(), &d, ctx.color_err)
        }
        EngineError::Rejected { error, log } => {
            use crate::kernel::verifier_log;
            // Point at the instruction the verifier refused, in the verifier's own words.
            let span = verifier_log::guilty_pc(log).and_then(|pc| {
                let index = crate::isa::insn_at_slot(&program.insns).get(pc).copied().flatten()?;
                program.span(index)
            });
            let why = verifier_log::reason(log).unwrap_or_else(|| error.explanation());
            let tail: Vec<&str> = log.lines().rev().take(12).collect::<Vec<_>>().into_iter().rev().collect();
            let mut d = Diagnostic::error(format!("the kernel verifier rejected the program: {why}"), span)
                .with_help(Some(error.explanation()));
            d.label = Some(why);
            if !tail.is_empty() {
                d = d.with_note(format!("verifier log (last lines):\n{}", tail.join("\n")));
            }
            diag::render(program.source.as_ref(), &d, ctx.color_err)
        }
        other => diag::render(None, &Diagnostic::error(other.to_string(), None), ctx.color_err),
    }
}

fn print_human(
    prog_type: crate::program::ProgType,
    run: &EngineRun,
    changes: &[MapChange],
    input_packet: Option<&[u8]>,
    trace: bool,
) {
    let o = &run.outcome;
    let r0 = if run.r0_bits == 64 {
        format!("{:#x} ({})", o.r0, o.r0 as i64)
    } else {
        format!("{:#x} ({}; low 32 bits only)", o.r0, o.r0 as u32 as i32)
    };
    match describe_return(prog_type, o.r0) {
        Some(name) => println!("r0 = {r0}  {name}"),
        None => println!("r0 = {r0}"),
    }
    if o.insns_executed > 0 {
        println!("executed {} instructions", o.insns_executed);
    }
    if trace && !o.exec_trace.is_empty() {
        println!("trace:");
        for l in &o.exec_trace {
            println!("  {l}");
        }
    }
    if !o.trace_lines.is_empty() {
        println!("trace_printk:");
        for l in &o.trace_lines {
            println!("  {l}");
        }
    }
    for c in changes {
        let changed = c.changed();
        if changed.is_empty() {
            continue;
        }
        println!(
            "map {} ({}, key {} B, value {} B): {} changed",
            c.def.name,
            c.def.map_type.name(),
            c.def.key_size,
            c.def.value_size,
            changed.len()
        );
        for (k, b, a) in changed {
            let show = |v: &Option<Vec<u8>>| v.as_deref().map_or("(none)".to_string(), show_bytes);
            println!("  [{}] {} -> {}", show_bytes(&k), show(&b), show(&a));
        }
    }
    if let Some(out) = &o.packet_out {
        match input_packet {
            Some(inp) if inp == out.as_slice() => println!("packet: unchanged ({} bytes)", out.len()),
            _ => println!("packet out ({} bytes): {}", out.len(), hex(out)),
        }
    }
    if let Some(ctx_out) = &o.ctx_out {
        println!("ctx out ({} bytes): {}", ctx_out.len(), hex(ctx_out));
    }
}

/// JSON of one run.
pub fn run_json(engine: &str, prog_type: crate::program::ProgType, run: &EngineRun, changes: &[MapChange]) -> Json {
    let o = &run.outcome;
    let maps = changes
        .iter()
        .map(|c| {
            let entries =
                c.after.iter().map(|(k, v)| Json::obj([("key", Json::str(hex(k))), ("value", Json::str(hex(v)))]));
            (c.def.name.clone(), Json::Arr(entries.collect()))
        })
        .collect::<Vec<_>>();
    Json::obj([
        ("engine", Json::str(engine)),
        ("r0", Json::U64(o.r0)),
        ("r0_hex", Json::str(format!("{:#x}", o.r0))),
        ("r0_bits", Json::U64(run.r0_bits as u64)),
        ("return", describe_return(prog_type, o.r0).map_or(Json::Null, Json::str)),
        ("insns_executed", Json::U64(o.insns_executed)),
        ("trace_printk", Json::Arr(o.trace_lines.iter().map(|l| Json::str(l.clone())).collect())),
        ("trace", Json::Arr(o.exec_trace.iter().map(|l| Json::str(l.clone())).collect())),
        ("maps", Json::Obj(maps)),
        ("packet_out", o.packet_out.as_deref().map_or(Json::Null, |p| Json::str(hex(p)))),
        ("ctx_out", o.ctx_out.as_deref().map_or(Json::Null, |p| Json::str(hex(p)))),
    ])
}

/// Runs `run`.
pub fn run(ctx: &Ctx, args: RunArgs) -> i32 {
    let (program, built) = match super::load_for_run(ctx, &args.file, args.syntax, &args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    // As in the kernel, a program is verified before it runs (the kernel engine verifies it itself).
    if args.engine != "kernel" && !args.unverified {
        let v = crate::verifier::verify(&program, &super::verify::options_for(&built.input, 0));
        if let Some(d) = super::verify::rejection_diagnostic(&program, &v) {
            let d = d.with_note("not run: pass --unverified to run it anyway");
            eprint!("{}", diag::render(program.source.as_ref(), &d, ctx.color_err));
            if args.json {
                println!("{}", super::verify::json(&program, &v).render());
            }
            return EXIT_PROGRAM;
        }
        eprint!("{}", super::verify::render_warnings(&program, &v, ctx.color_err));
    }
    let options = EngineOptions {
        run: RunOptions { budget: args.budget, trace: args.trace, seed: args.seed, ..RunOptions::default() },
        kernel: LoadOptions::default(),
    };
    let mut engine = match engine::open(&args.engine, &program, &options, &built.input) {
        Ok(e) => e,
        Err(e) => {
            eprint!("{}", render_engine_error(ctx, &program, &e));
            return match e {
                EngineError::Kernel(_) | EngineError::Unsupported(_) => EXIT_INPUT,
                _ => EXIT_PROGRAM,
            };
        }
    };
    for f in &built.fills {
        if let Err(e) = engine.map_update(&f.map, &f.key, &f.value) {
            eprint!("{}", diag::render(None, &Diagnostic::error(format!("--map {}: {e}", f.map), None), ctx.color_err));
            return EXIT_INPUT;
        }
    }
    let before: Vec<MapEntries> =
        program.maps.iter().map(|m| engine.map_entries(&m.name).unwrap_or_default()).collect();
    let result = engine.run(&built.input);
    let run = match result {
        Ok(r) => r,
        Err(e) => {
            eprint!("{}", render_engine_error(ctx, &program, &e));
            return match e {
                EngineError::Unsupported(_) => EXIT_INPUT,
                _ => EXIT_PROGRAM,
            };
        }
    };
    let changes: Vec<MapChange> = program
        .maps
        .iter()
        .zip(before)
        .map(|(def, before)| MapChange { def, before, after: engine.map_entries(&def.name).unwrap_or_default() })
        .collect();
    let packet_in = match &built.input {
        crate::interp::Input::Xdp { packet, .. } | crate::interp::Input::Skb { packet, .. } => Some(packet.as_slice()),
        _ => None,
    };
    if args.json {
        println!("{}", run_json(engine.name(), program.prog_type, &run, &changes).render());
    } else {
        print_human(program.prog_type, &run, &changes, packet_in, args.trace);
    }
    0
}
