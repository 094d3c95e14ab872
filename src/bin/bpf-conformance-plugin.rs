//! A plugin for the bpf_conformance reference runner, running programs on ebpf-lab's interpreter.
//!
//! Protocol: `bpf-conformance-plugin [HEXMEM] [OPTIONS]`, the program bytecode as hex bytes on
//! standard input (whitespace optional). Prints r0 in hex and exits 0, or prints the error and
//! exits 1. Options the runner passes (`--elf`, ...) are accepted and ignored.

use ebpf_lab::interp::{Input, Vm};
use ebpf_lab::program::Program;
use std::io::Read;
use std::process::ExitCode;

/// Parses hex bytes, ignoring whitespace (`"b7 00"` and `"b700"` are the same).
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).map_err(|_| "invalid hex".to_string())?;
            u8::from_str_radix(s, 16).map_err(|_| format!("invalid hex byte `{s}`"))
        })
        .collect()
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
