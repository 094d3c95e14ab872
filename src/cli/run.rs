//! `ebpf-lab run PROG`: run a program on one engine and show r0, the trace_printk output, the
//! maps that changed and the packet or context after the run.

use super::input::InputArgs;
use super::json::{hex, Json};
use super::{Ctx, SyntaxArg, EXIT_INPUT, EXIT_PROGRAM};
use crate::diag::{self, Diagnostic};
use crate::engine::{self, EngineError, EngineOptions, EngineRun, MapEntries};
use crate::global_data;
use crate::interp::RunOptions;
use crate::jit::JitChecks;
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
    /// Which memory accesses the JIT checks: `all`, or `unproven` to skip those the verifier
    /// proved in bounds (own stack frame, packet within the checked range).
    #[arg(long, value_enum, default_value_t = JitChecksArg::All)]
    jit_checks: JitChecksArg,
}

/// `--jit-checks`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum JitChecksArg {
    /// Check every load, store and atomic.
    All,
    /// Skip the checks the verifier made redundant.
    Unproven,
}

impl From<JitChecksArg> for JitChecks {
    fn from(a: JitChecksArg) -> JitChecks {
        match a {
            JitChecksArg::All => JitChecks::All,
            JitChecksArg::Unproven => JitChecks::Unproven,
        }
    }
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

/// Shows a key of map `def`: an LPM trie's as `address/prefix length` (dotted for IPv4, IPv6's
/// notation for 16 bytes), any other as [`show_bytes`].
pub fn show_key(def: &MapDef, k: &[u8]) -> String {
    if def.map_type != crate::program::MapType::LpmTrie || k.len() < 4 {
        return show_bytes(k);
    }
    let len = u32::from_le_bytes(k[..4].try_into().expect("4 bytes"));
    let data = &k[4..];
    let addr = match data.len() {
        4 => std::net::Ipv4Addr::new(data[0], data[1], data[2], data[3]).to_string(),
        16 => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(data).expect("16 bytes")).to_string(),
        _ => hex(data),
    };
    format!("{addr}/{len}")
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
            let pc = verifier_log::guilty_pc(log).or_else(|| unnamed_insn(program, log));
            let span = pc.and_then(|pc| {
                let index = crate::isa::insn_at_slot(&program.insns).get(pc).copied().flatten()?;
                program.span(index)
            });
            let why = verifier_log::reason(log).unwrap_or_else(|| error.explanation());
            // The path that led to the refused instruction, without the reason said above.
            let lines: Vec<&str> = log.lines().collect();
            let last_insn = lines.iter().rposition(|l| {
                let d = l.bytes().take_while(u8::is_ascii_digit).count();
                d > 0 && l[d..].starts_with(": (")
            });
            let path = last_insn.map_or(&[][..], |i| &lines[i.saturating_sub(11)..=i]);
            let help = verifier_log::hint(&why).map(str::to_string).unwrap_or_else(|| {
                "the log (`check --log`) shows the path to the refused instruction and the register state there"
                    .to_string()
            });
            let mut d = Diagnostic::error(format!("the kernel verifier rejected the program: {why}"), span)
                .with_help(Some(help));
            if !path.is_empty() {
                d = d.with_note(format!("the verifier's path (last instructions):\n{}", path.join("\n")));
            }
            diag::render(program.source.as_ref(), &d, ctx.color_err)
        }
        other => diag::render(None, &Diagnostic::error(other.to_string(), None), ctx.color_err),
    }
}

/// The value of map `index` (the one entry of a global section's map) in `entries`.
fn section_value(entries: &MapEntries) -> &[u8] {
    entries.first().map_or(&[], |(_, v)| v.as_slice())
}

/// Each global variable after the run, with its value before where it changed:
/// (name, after, before).
pub fn global_values(program: &Program, changes: &[MapChange]) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let Some(g) = global_data::section_of_map(program, i) else { continue };
        for v in &g.vars {
            let after = g.var_bytes(v, section_value(&c.after));
            let before = g.var_bytes(v, section_value(&c.before));
            let was = (!c.before.is_empty() && before != after).then(|| global_data::show_value(before));
            out.push((v.name.clone(), global_data::show_value(after), was));
        }
    }
    out
}

/// The global variables as JSON: name -> {value (hex), shown, before (hex, when changed)}.
pub fn globals_json(program: &Program, changes: &[MapChange]) -> Json {
    let mut fields = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let Some(g) = global_data::section_of_map(program, i) else { continue };
        for v in &g.vars {
            let after = g.var_bytes(v, section_value(&c.after));
            fields.push((
                v.name.clone(),
                Json::obj([
                    ("section", Json::str(program.maps[g.map].name.clone())),
                    ("value", Json::str(hex(after))),
                    ("shown", Json::str(global_data::show_value(after))),
                ]),
            ));
        }
    }
    Json::Obj(fields)
}

fn print_human(program: &Program, run: &EngineRun, changes: &[MapChange], input_packet: Option<&[u8]>, trace: bool) {
    let prog_type = program.prog_type;
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
    if trace && !o.exec_trace().is_empty() {
        println!("trace:");
        for l in o.exec_trace() {
            println!("  {l}");
        }
    }
    if !o.trace_lines().is_empty() {
        println!("trace_printk:");
        for l in o.trace_lines() {
            println!("  {l}");
        }
    }
    let globals = global_values(program, changes);
    if !globals.is_empty() {
        println!("globals:");
        for (name, after, before) in globals {
            match before {
                Some(b) => println!("  {name} = {after} (was {b})"),
                None => println!("  {name} = {after}"),
            }
        }
    }
    if let Some(target) = o.redirect() {
        println!("redirect: {target}");
    }
    for (i, c) in changes.iter().enumerate() {
        let changed = c.changed();
        if changed.is_empty() || global_data::section_of_map(program, i).is_some() {
            continue;
        }
        if c.def.map_type == crate::program::MapType::PerfEventArray {
            println!("perf events {}: {} record(s)", c.def.name, changed.len());
            for (k, _, a) in changed {
                println!("  [{}] {}", show_bytes(&k), a.as_deref().map_or(String::new(), hex));
            }
            continue;
        }
        let typed = |t: &Option<String>, size: u32| match t {
            Some(t) => format!("{t}, {size} B"),
            None => format!("{size} B"),
        };
        println!(
            "map {} ({}, key {}, value {}): {} changed",
            c.def.name,
            c.def.map_type.name(),
            typed(&c.def.extra.key_type, c.def.key_size),
            typed(&c.def.extra.value_type, c.def.value_size),
            changed.len()
        );
        for (k, b, a) in changed {
            let show = |v: &Option<Vec<u8>>| v.as_deref().map_or("(none)".to_string(), show_bytes);
            println!("  [{}] {} -> {}", show_key(c.def, &k), show(&b), show(&a));
        }
    }
    if let Some(out) = &o.packet_out {
        // A socket filter's test run hands the packet back behind a zeroed Ethernet header.
        let eth = crate::interp::ETH_HLEN;
        let zeroed_eth = prog_type.skb_from_network_header()
            && out.len() >= eth
            && out[..eth].iter().all(|b| *b == 0)
            && input_packet.is_some_and(|inp| inp.get(eth..) == out.get(eth..));
        match input_packet {
            Some(inp) if inp == &out[..] => println!("packet: unchanged ({} bytes)", out.len()),
            Some(_) if zeroed_eth => {
                println!(
                    "packet: unchanged ({} bytes; the Ethernet header comes back zeroed, as from the test run)",
                    out.len()
                )
            }
            _ => println!("packet out ({} bytes): {}", out.len(), hex(out)),
        }
    }
    if let Some(ctx_out) = &o.ctx_out {
        println!("ctx out ({} bytes): {}", ctx_out.len(), hex(ctx_out));
    }
    if let Some(key) = o.tunnel_key() {
        println!("tunnel key (bpf_skb_set_tunnel_key): {}", tunnel_key_text(key));
    }
}

/// A `struct bpf_tunnel_key` in words: id, addresses (IPv4 unless the IPv6 words are used), tos,
/// ttl, flow label.
fn tunnel_key_text(key: &[u8]) -> String {
    let word = |at: usize| key.get(at..at + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]));
    let ip = |at: usize| {
        let v6 = (1..4).any(|i| word(at + 4 * i) != 0);
        if v6 {
            let b: Vec<u8> = key.get(at..at + 16).map_or(vec![], <[u8]>::to_vec);
            std::net::Ipv6Addr::from(<[u8; 16]>::try_from(b.as_slice()).unwrap_or([0; 16])).to_string()
        } else {
            std::net::Ipv4Addr::from(word(at).to_le_bytes()).to_string()
        }
    };
    format!(
        "id {} remote {} local {} tos {} ttl {} label {}",
        word(0),
        ip(4),
        ip(28),
        key.get(20).copied().unwrap_or(0),
        key.get(21).copied().unwrap_or(0),
        word(24)
    )
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
        // Every run executes at least its `exit`: 0 means the engine cannot count (the kernel).
        ("insns_executed", if o.insns_executed > 0 { Json::U64(o.insns_executed) } else { Json::Null }),
        ("trace_printk", Json::Arr(o.trace_lines().iter().map(|l| Json::str(l.clone())).collect())),
        ("trace", Json::Arr(o.exec_trace().iter().map(|l| Json::str(l.clone())).collect())),
        ("maps", Json::Obj(maps)),
        ("packet_out", o.packet_out.as_deref().map_or(Json::Null, |p| Json::str(hex(p)))),
        ("ctx_out", o.ctx_out.as_deref().map_or(Json::Null, |p| Json::str(hex(p)))),
        ("tunnel_key", o.tunnel_key().map_or(Json::Null, |k| Json::str(hex(k)))),
        ("redirect", o.redirect().map_or(Json::Null, |r| Json::str(r.to_string()))),
    ])
}

/// The instruction a structural rejection means without naming it: the last one for a missing
/// `exit`, the first call out of the program for an invalid destination.
fn unnamed_insn(program: &Program, log: &str) -> Option<usize> {
    let why = crate::kernel::verifier_log::reason(log)?;
    let pcs = program.slot_pcs();
    let end = *pcs.last()? as i64;
    if why.contains("last insn is not an exit or jmp") {
        return pcs.len().checked_sub(2).map(|i| pcs[i]);
    }
    if why.contains("call to invalid destination") {
        return program.insns.iter().zip(&pcs).find_map(|(insn, &pc)| {
            let target = pc as i64 + 1 + insn.branch_offset()?;
            let is_call = !matches!(insn, crate::isa::Insn::Ja { .. } | crate::isa::Insn::Jmp { .. });
            (is_call && !(0..end).contains(&target)).then_some(pc)
        });
    }
    None
}

/// JSON of a run that failed: the engine, the error and the exit code (the diagnostic with its
/// snippet goes to standard error as usual).
fn failure_json(engine: &str, error: &str, exit: i32) -> Json {
    Json::obj([
        ("engine", Json::str(engine)),
        ("ok", Json::Bool(false)),
        ("error", Json::str(error)),
        ("exit", Json::U64(exit as u64)),
    ])
}

/// Runs `run`.
pub fn run(ctx: &Ctx, args: RunArgs) -> i32 {
    let (program, built) = match super::load_for_run_explained(ctx, &args.file, args.syntax, &args.input) {
        Ok(loaded) => loaded,
        Err((code, message)) => {
            if args.json {
                println!("{}", failure_json(&args.engine, &message, code).render());
            }
            return code;
        }
    };
    if let Err(e) = built.check_for_kernel().or_else(|e| if args.engine == "kernel" { Err(e) } else { Ok(()) }) {
        eprint!("{}", diag::render(None, &Diagnostic::error(e.clone(), None), ctx.color_err));
        if args.json {
            println!("{}", failure_json(&args.engine, &e, EXIT_INPUT).render());
        }
        return EXIT_INPUT;
    }
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
        jit_checks: args.jit_checks.into(),
    };
    let mut engine = match engine::open(&args.engine, &program, &options, &built.input) {
        Ok(e) => e,
        Err(e) => {
            eprint!("{}", render_engine_error(ctx, &program, &e));
            let code = match e {
                EngineError::Kernel(_) | EngineError::Unsupported(_) => EXIT_INPUT,
                _ => EXIT_PROGRAM,
            };
            if args.json {
                println!("{}", failure_json(&args.engine, &e.to_string(), code).render());
            }
            return code;
        }
    };
    for f in &built.fills {
        if let Err(e) = engine.map_update(&f.map, &f.key, &f.value) {
            let message = format!("--map {}: {e}", f.map);
            eprint!("{}", diag::render(None, &Diagnostic::error(message.clone(), None), ctx.color_err));
            if args.json {
                println!("{}", failure_json(&args.engine, &message, EXIT_INPUT).render());
            }
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
            let code = match e {
                EngineError::Unsupported(_) => EXIT_INPUT,
                _ => EXIT_PROGRAM,
            };
            if args.json {
                println!("{}", failure_json(&args.engine, &e.to_string(), code).render());
            }
            return code;
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
        let mut json = run_json(engine.name(), program.prog_type, &run, &changes);
        if let Json::Obj(fields) = &mut json {
            fields.push(("globals".into(), globals_json(&program, &changes)));
        }
        println!("{}", json.render());
    } else {
        print_human(&program, &run, &changes, packet_in, args.trace);
    }
    0
}
