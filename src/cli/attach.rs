//! `ebpf-lab attach PROG --for DURATION --HOOK TARGET`: load a program, attach it to a real
//! kernel hook, show its `bpf_trace_printk` lines and its maps while it runs, then detach.

use super::json::{hex, Json};
use super::run::show_bytes;
use super::{Ctx, SyntaxArg, EXIT_INPUT, EXIT_PROGRAM};
use crate::diag::{self, Diagnostic};
use crate::kernel::attach::{self, Hook};
use crate::kernel::backend::MapEntries;
use crate::kernel::trace_pipe::{self, PrintkLine, TracePipe};
use crate::kernel::{KernelProgram, LoadOptions};
use crate::program::{MapType, ProgType, Program};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Arguments of `attach`.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("hook").required(true)))]
pub struct AttachArgs {
    /// The program: assembly (`.s`), raw bytecode (`.bin`) or hex text.
    file: PathBuf,
    /// How long to stay attached: `500ms`, `10s`, `2m` (a bare number is seconds).
    #[arg(long = "for", value_parser = parse_duration, default_value = "10s")]
    duration: Duration,
    /// A tracepoint, CATEGORY/NAME (`syscalls/sys_enter_execve`); the program must be `.prog tracepoint`.
    #[arg(long, group = "hook", value_name = "CATEGORY/NAME")]
    tracepoint: Option<String>,
    /// A raw tracepoint (`sys_enter`); r1 is `struct bpf_raw_tracepoint_args`.
    #[arg(long, group = "hook", value_name = "NAME")]
    raw_tracepoint: Option<String>,
    /// A kprobe on a kernel function; r1 is `struct pt_regs`.
    #[arg(long, group = "hook", value_name = "FUNC")]
    kprobe: Option<String>,
    /// XDP on a network interface; the program must be `.prog xdp`.
    #[arg(long, group = "hook", value_name = "IFACE")]
    xdp: Option<String>,
    /// A socket filter on a raw packet socket bound to an interface; the program must be `.prog socket`.
    #[arg(long, group = "hook", value_name = "IFACE")]
    socket: Option<String>,
    /// Print the final maps and the printk lines as JSON.
    #[arg(long)]
    json: bool,
    /// Syntax of the file, when it is assembly.
    #[arg(long, value_enum)]
    syntax: Option<SyntaxArg>,
}

/// Parses `500ms`, `10s`, `2m` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| format!("`{s}` is not a duration (try 500ms, 10s, 2m)"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => return Err(format!("unknown unit `{unit}` in `{s}` (use ms, s or m)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("`{s}` is not a duration"))
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Restores the previous SIGINT disposition on drop.
struct SigintGuard(libc::sighandler_t);

impl SigintGuard {
    fn install() -> SigintGuard {
        INTERRUPTED.store(false, Ordering::SeqCst);
        let handler: extern "C" fn(libc::c_int) = on_sigint;
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        SigintGuard(unsafe { libc::signal(libc::SIGINT, handler as libc::sighandler_t) })
    }
}

impl Drop for SigintGuard {
    fn drop(&mut self) {
        // SAFETY: puts back the disposition signal() returned.
        unsafe { libc::signal(libc::SIGINT, self.0) };
    }
}

fn fail(ctx: &Ctx, json: bool, message: String, help: Option<String>, code: i32) -> i32 {
    if json {
        println!("{}", Json::obj([("error", Json::str(message.clone()))]).render());
    }
    eprint!("{}", diag::render(None, &Diagnostic::error(message, None).with_help(help), ctx.color_err));
    code
}

fn hook_of(args: &AttachArgs) -> Result<Hook, attach::AttachError> {
    if let Some(t) = &args.tracepoint {
        return Hook::tracepoint(t);
    }
    Ok(match (&args.raw_tracepoint, &args.kprobe, &args.xdp, &args.socket) {
        (Some(n), ..) => Hook::RawTracepoint(n.clone()),
        (_, Some(f), ..) => Hook::Kprobe(f.clone()),
        (_, _, Some(i), _) => Hook::Xdp(i.clone()),
        (_, _, _, Some(i)) => Hook::Socket(i.clone()),
        _ => unreachable!("clap requires one hook"),
    })
}

/// The ebpf-lab program type a hook needs, when it has one (kprobes and raw tracepoints have
/// contexts ebpf-lab does not model, so any program type is loaded as theirs).
fn needed_type(hook: &Hook) -> Option<ProgType> {
    match hook {
        Hook::Tracepoint { .. } => Some(ProgType::Tracepoint),
        Hook::Xdp(_) => Some(ProgType::Xdp),
        Hook::Socket(_) => Some(ProgType::Socket),
        Hook::RawTracepoint(_) | Hook::Kprobe(_) => None,
    }
}

/// Runs `attach`.
pub fn run(ctx: &Ctx, args: AttachArgs) -> i32 {
    let hook = match hook_of(&args) {
        Ok(h) => h,
        Err(e) => return fail(ctx, args.json, e.to_string(), None, EXIT_INPUT),
    };
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return fail(
            ctx,
            args.json,
            format!("attaching to the {hook} needs root"),
            Some("run it with sudo (it needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, and writes to tracefs)".into()),
            EXIT_INPUT,
        );
    }
    let mut program = match super::load(ctx, &args.file, args.syntax) {
        Ok(p) => p,
        Err(code) => return code,
    };
    if needed_type(&hook).is_none() && program.prog_type == ProgType::Mem {
        // A `mem` program is loaded inside the test-run wrapper; at a kprobe or raw tracepoint
        // the hook's own context replaces the buffer, so load it bare.
        program.prog_type = ProgType::Syscall;
    }
    if let Some(t) = needed_type(&hook) {
        if program.prog_type != t {
            return fail(
                ctx,
                args.json,
                format!("the {hook} runs `{}` programs, and this one is `{}`", t.name(), program.prog_type.name()),
                Some(format!("put `.prog {}` at the top of the program", t.name())),
                EXIT_INPUT,
            );
        }
    }
    let opts = LoadOptions { log_level: 1, kernel_prog_type: Some(hook.kernel_prog_type()), ..LoadOptions::default() };
    // Mark the program's printk lines so the pipe can tell them from other programs'; if the
    // marked form is refused, load the program as written and show every program's lines.
    let marker = trace_pipe::new_marker();
    let marked = trace_pipe::mark_program(&program, &marker);
    let mut kprog = None;
    if let Some(m) = &marked {
        match KernelProgram::load(m, &opts) {
            Ok(k) if k.verdict().accepted() => kprog = Some(k),
            Ok(_) => {}
            Err(e) => return fail(ctx, args.json, e.to_string(), None, EXIT_INPUT),
        }
    }
    let filtered = kprog.is_some();
    let kprog = match kprog.map_or_else(|| KernelProgram::load(&program, &opts), Ok) {
        Ok(k) => k,
        Err(e) => return fail(ctx, args.json, e.to_string(), None, EXIT_INPUT),
    };
    let Some(fd) = kprog.prog_fd() else {
        let v = kprog.verdict();
        let Some(error) = v.error.clone() else {
            return fail(ctx, args.json, "the kernel kept no program to attach".into(), None, EXIT_INPUT);
        };
        let e = crate::engine::EngineError::Rejected { error, log: v.log.clone() };
        if args.json {
            println!("{}", Json::obj([("error", Json::str("the kernel verifier rejected the program"))]).render());
        }
        eprint!("{}", super::run::render_engine_error(ctx, &program, &e));
        return EXIT_PROGRAM;
    };
    let mut pipe = match TracePipe::open() {
        Ok(p) => p,
        Err(e) => return fail(ctx, args.json, e.to_string(), None, EXIT_INPUT),
    };
    if filtered {
        pipe.only_marked(&marker);
    }
    let attachment = match attach::attach(fd, &hook) {
        Ok(a) => a,
        Err(e) => return fail(ctx, args.json, format!("cannot attach to the {hook}: {e}"), None, EXIT_INPUT),
    };
    let _sigint = SigintGuard::install();
    let live = !args.json && std::io::stdout().is_terminal();
    let mut out = std::io::stdout().lock();
    if !args.json {
        let _ = writeln!(out, "attached to the {hook} for {:?} (Ctrl-C to stop)", args.duration);
    }
    let mut lines = Vec::new();
    let start = Instant::now();
    let mut last_maps = Instant::now();
    let mut shown: Vec<MapEntries> = Vec::new();
    let mut ok = true;
    while ok && start.elapsed() < args.duration && !INTERRUPTED.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50).min(args.duration.saturating_sub(start.elapsed())));
        attachment.drain();
        ok = show_printk(&mut out, &mut pipe, &mut lines, args.json);
        if live && last_maps.elapsed() >= Duration::from_secs(1) {
            last_maps = Instant::now();
            let now = read_maps(&program, &kprog);
            if now != shown {
                ok &= print_maps(&mut out, &program, &now, &format!("maps at {:.1}s", start.elapsed().as_secs_f64()));
                shown = now;
            }
        }
    }
    drop(attachment);
    // Lines written just before the detach may still be on their way to the buffer.
    std::thread::sleep(Duration::from_millis(50));
    show_printk(&mut out, &mut pipe, &mut lines, args.json);
    let maps = read_maps(&program, &kprog);
    let stopped = if INTERRUPTED.load(Ordering::SeqCst) { "interrupted" } else { "time is up" };
    if args.json {
        let _ = writeln!(out, "{}", attach_json(&hook, &program, &maps, &lines).render());
    } else {
        print_maps(&mut out, &program, &maps, &format!("detached ({stopped}); maps"));
    }
    0
}

/// Prints (or, for JSON, only collects) the new printk lines; false when stdout is closed.
fn show_printk(out: &mut impl Write, pipe: &mut TracePipe, all: &mut Vec<PrintkLine>, json: bool) -> bool {
    let new = pipe.read_lines();
    let mut ok = true;
    if !json {
        for l in &new {
            ok &= writeln!(out, "{:>20}: {}", l.task, l.message).is_ok();
        }
    }
    all.extend(new);
    ok
}

fn read_maps(program: &Program, kprog: &KernelProgram) -> Vec<MapEntries> {
    (0..program.maps.len()).map(|i| kprog.map_entries(i).unwrap_or_default()).collect()
}

fn print_maps(out: &mut impl Write, program: &Program, maps: &[MapEntries], title: &str) -> bool {
    let mut text = String::new();
    if program.maps.is_empty() {
        text.push_str(&format!("{title}: the program has no maps\n"));
    } else {
        text.push_str(&format!("{title}:\n"));
    }
    for (def, entries) in program.maps.iter().zip(maps) {
        // An array always has all its entries; the zero ones say nothing.
        let shown: Vec<_> =
            entries.iter().filter(|(_, v)| def.map_type != MapType::Array || v.iter().any(|&b| b != 0)).collect();
        let hidden = entries.len() - shown.len();
        let zeros = if hidden > 0 { format!(", {hidden} zero entries not shown") } else { String::new() };
        text.push_str(&format!("  {} ({}, {} entries{zeros})\n", def.name, def.map_type.name(), entries.len()));
        for (k, v) in shown {
            text.push_str(&format!("    [{}] {}\n", show_bytes(k), show_bytes(v)));
        }
    }
    out.write_all(text.as_bytes()).is_ok()
}

fn attach_json(hook: &Hook, program: &Program, maps: &[MapEntries], lines: &[PrintkLine]) -> Json {
    let maps = program
        .maps
        .iter()
        .zip(maps)
        .map(|(def, entries)| {
            let e = entries.iter().map(|(k, v)| Json::obj([("key", Json::str(hex(k))), ("value", Json::str(hex(v)))]));
            (def.name.clone(), Json::Arr(e.collect()))
        })
        .collect::<Vec<_>>();
    let printk = lines
        .iter()
        .map(|l| Json::obj([("task", Json::str(l.task.clone())), ("message", Json::str(l.message.clone()))]));
    Json::obj([
        ("hook", Json::str(hook.to_string())),
        ("maps", Json::Obj(maps)),
        ("trace_printk", Json::Arr(printk.collect())),
    ])
}
