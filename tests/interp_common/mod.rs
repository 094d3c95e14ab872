//! Shared helpers of the interpreter tests (included with `mod`).
#![allow(dead_code)]

use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::interp::{Input, RunOutcome, RuntimeError, Vm};
use ebpf_lab::program::Program;

/// Assembles uBPF-syntax source, panicking with the errors (test programs are fixed).
pub fn prog(src: &str) -> Program {
    assemble("t.s", src, Some(Syntax::Ubpf)).unwrap_or_else(|e| panic!("assembly failed: {e:?}"))
}

/// Runs a `mem` program on `mem`.
pub fn run_mem(src: &str, mem: Vec<u8>) -> Result<RunOutcome, RuntimeError> {
    Vm::new(&prog(src))?.run(&Input::mem(mem))
}

/// r0 of a `mem` program on empty input.
pub fn r0(src: &str) -> u64 {
    run_mem(src, Vec::new()).unwrap_or_else(|e| panic!("run failed: {e}")).r0
}

/// The error of a `mem` program that must fail.
pub fn err(src: &str) -> RuntimeError {
    match run_mem(src, Vec::new()) {
        Ok(o) => panic!("expected an error, got r0 = {:#x}", o.r0),
        Err(e) => e,
    }
}
