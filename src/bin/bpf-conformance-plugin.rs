//! A plugin for the bpf_conformance reference runner, running programs on ebpf-lab's interpreter.
//!
//! Protocol: `bpf-conformance-plugin [HEXMEM] [OPTIONS]`, the program bytecode as hex bytes on
//! standard input (whitespace optional). Prints r0 in hex and exits 0, or prints the error and
//! exits 1. Options the runner passes (`--elf`, ...) are accepted and ignored.

use ebpf_lab::interp::{Input, Vm};
use ebpf_lab::program::Program;
use std::io::Read;
use std::process::ExitCode;

/// Parses hex bytes, ignoring whitespace anywhere (`"b7 00"`, `"b700"` and `"b 700"` are the same).
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    ebpf_lab::load::parse_hex(&digits).map_err(|(_, e)| e)
}

fn run() -> Result<u64, String> {
    let mem_hex = std::env::args().skip(1).find(|a| !a.starts_with("--"));
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
    let mut vm = Vm::new(&prog).map_err(|e| e.to_string())?;
    vm.run(&Input::mem(mem)).map(|o| o.r0).map_err(|e| e.to_string())
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
