//! A plugin for the bpf_conformance reference runner, running programs on one of ebpf-lab's
//! engines (the interpreter unless `--engine jit` or `--engine kernel` says otherwise).
//!
//! Protocol: `bpf-conformance-plugin [HEXMEM] [--engine NAME] [OPTIONS]`, the program bytecode
//! as hex bytes on standard input (whitespace optional). Prints r0 in hex and exits 0, or prints
//! the error and exits 1. Other options the runner passes (`--elf`, ...) are accepted and ignored.

use ebpf_lab::engine::{self, EngineOptions};
use ebpf_lab::interp::Input;
use ebpf_lab::program::Program;
use std::io::Read;
use std::process::ExitCode;

/// Parses hex bytes, ignoring whitespace anywhere (`"b7 00"`, `"b700"` and `"b 700"` are the same).
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    ebpf_lab::load::parse_hex(&digits).map_err(|(_, e)| e)
}

fn run() -> Result<u64, String> {
    let mut engine_name = String::from("interp");
    let mut mem_hex = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--engine" {
            engine_name = args.next().ok_or("--engine needs a name (interp, jit, kernel)")?;
        } else if let Some(name) = a.strip_prefix("--engine=") {
            engine_name = name.to_string();
        } else if !a.starts_with("--") && mem_hex.is_none() {
            mem_hex = Some(a);
        }
    }
    let mem = match mem_hex {
        Some(h) => parse_hex(&h).map_err(|e| format!("memory: {e}"))?,
        None => Vec::new(),
    };
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| format!("reading stdin: {e}"))?;
    let code = parse_hex(&text).map_err(|e| format!("program: {e}"))?;
    let prog = Program::from_bytes(&code).map_err(|e| e.to_string())?;
    if prog.insns.is_empty() {
        return Err("the program has no instructions".into());
    }
    let input = Input::mem(mem);
    let mut vm = engine::open(&engine_name, &prog, &EngineOptions::default(), &input).map_err(|e| e.to_string())?;
    vm.run(&input).map(|r| r.outcome.r0).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    match run() {
        Ok(r0) => {
            println!("{r0:x}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{e}");
            ExitCode::FAILURE
        }
    }
}
