//! `ebpf-lab debug PROG [inputs as in run]`: the step debugger in the terminal, or with
//! `--script FILE` its commands read from a file and each screen printed as text.

use super::input::InputArgs;
use super::{Ctx, SyntaxArg, EXIT_INPUT};
use crate::debug::{screen, Session};
use crate::diag::{self, Diagnostic};
use crate::interp::{RunOptions, Vm};
use clap::Args;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind};
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `debug`.
#[derive(Args, Debug)]
pub struct DebugArgs {
    /// The program: assembly (`.s`), raw bytecode (`.bin`), hex text or an ELF object.
    file: PathBuf,
    /// Engine: only the interpreter can be stepped.
    #[arg(long, default_value = "interp", value_parser = clap::builder::PossibleValuesParser::new(crate::engine::ENGINES))]
    engine: String,
    #[command(flatten)]
    input: InputArgs,
    /// Run these debugger commands (one per line, `#` comments) and print each screen as text.
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
    /// Screen size for --script, as WIDTHxHEIGHT.
    #[arg(long, default_value = "110x34", value_parser = parse_size)]
    size: (u16, u16),
    /// Most instructions recorded (each step keeps a copy of the stack frame).
    #[arg(long, default_value_t = 100_000)]
    budget: u64,
    /// Seed of bpf_get_prandom_u32.
    #[arg(long, default_value_t = 0x5eed)]
    seed: u64,
    /// Syntax of the file, when it is assembly.
    #[arg(long, value_enum)]
    syntax: Option<SyntaxArg>,
}

fn parse_size(s: &str) -> Result<(u16, u16), String> {
    let (w, h) = s.split_once('x').ok_or("expected WIDTHxHEIGHT, e.g. 110x34")?;
    let (w, h) = (w.parse::<u16>().map_err(|e| e.to_string())?, h.parse::<u16>().map_err(|e| e.to_string())?);
    if w < 60 || h < 20 {
        return Err("the screen needs at least 60x20".into());
    }
    Ok((w, h))
}

fn fail(ctx: &Ctx, msg: String, help: Option<String>) -> i32 {
    eprint!("{}", diag::render(None, &Diagnostic::error(msg, None).with_help(help), ctx.color_err));
    EXIT_INPUT
}

/// Runs `debug`.
pub fn run(ctx: &Ctx, args: DebugArgs) -> i32 {
    if args.engine != "interp" {
        return fail(
            ctx,
            format!("the {} engine cannot be stepped: it runs the whole program at once", args.engine),
            Some("debug on the interpreter (the default), then compare engines with `ebpf-lab check`".into()),
        );
    }
    let (program, built) = match super::load_for_run(ctx, &args.file, args.syntax, &args.input) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let options = RunOptions { budget: args.budget, seed: args.seed, ..RunOptions::default() };
    let mut vm = match Vm::with_options(&program, options) {
        Ok(vm) => vm,
        Err(e) => return fail(ctx, e.to_string(), None),
    };
    for f in &built.fills {
        let r = vm
            .map_mut(&f.map)
            .ok_or_else(|| "no such map".to_string())
            .and_then(|m| m.user_fill(&f.key, &f.value).map_err(|e| e.to_string()));
        if let Err(e) = r {
            return fail(ctx, format!("--map {}: {e}", f.map), None);
        }
    }
    let mut session = Session::new(&program, vm, built.input);
    match &args.script {
        Some(path) => script(ctx, &mut session, path, args.size),
        None => interactive(ctx, &mut session),
    }
}

fn script(ctx: &Ctx, s: &mut Session, path: &std::path::Path, (w, h): (u16, u16)) -> i32 {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return fail(ctx, format!("cannot read {}: {e}", path.display()), None),
    };
    let mut out = std::io::stdout().lock();
    // A closed pipe ends quietly.
    if write!(out, "{}", screen::text(s, w, h)).is_err() {
        return 0;
    }
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let go_on = s.command(line);
        if !go_on {
            break;
        }
        if write!(out, "\n$ {line}\n{}", screen::text(s, w, h)).is_err() {
            return 0;
        }
    }
    0
}

fn interactive(ctx: &Ctx, s: &mut Session) -> i32 {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return fail(
            ctx,
            "the debugger needs a terminal".into(),
            Some("use --script FILE to run commands without one".into()),
        );
    }
    let mut term = ratatui::init();
    let mut prompt: Option<String> = None;
    let result = loop {
        let status = prompt.as_ref().map(|p| format!(":{p}"));
        let saved = std::mem::take(&mut s.status);
        s.status = status.unwrap_or(saved.clone());
        let drawn = term.draw(|f| screen::draw(f, s));
        s.status = saved;
        if let Err(e) = drawn {
            break Err(e);
        }
        let key = match event::read() {
            Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => k.code,
            Ok(_) => continue,
            Err(e) => break Err(e),
        };
        if let Some(p) = &mut prompt {
            match key {
                KeyCode::Enter => {
                    let line = std::mem::take(p);
                    prompt = None;
                    if !s.command(&line) {
                        break Ok(());
                    }
                }
                KeyCode::Esc => prompt = None,
                KeyCode::Backspace => {
                    p.pop();
                }
                KeyCode::Char(c) => p.push(c),
                _ => {}
            }
            continue;
        }
        let cmd = match key {
            KeyCode::Char('s') | KeyCode::Down => "step",
            KeyCode::Char('n') => "next",
            KeyCode::Char('c') => "continue",
            KeyCode::Char('b') | KeyCode::Up => "back",
            KeyCode::Char('r') => "restart",
            KeyCode::Char('q') | KeyCode::Esc => break Ok(()),
            KeyCode::Char(':') => {
                prompt = Some(String::new());
                continue;
            }
            _ => continue,
        };
        s.command(cmd);
    };
    ratatui::restore();
    match result {
        Ok(()) => 0,
        Err(e) => fail(ctx, format!("terminal error: {e}"), None),
    }
}
