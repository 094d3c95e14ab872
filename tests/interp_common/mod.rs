//! Shared helpers of the interpreter tests (included with `mod`).
#![allow(dead_code)]

use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::engine::{self, Engine, EngineError, EngineOptions};
use ebpf_lab::interp::{Input, RunOptions, RunOutcome, RuntimeError, Vm};
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

/// Assembles LLVM-syntax source (the kernel's notation), panicking with the errors.
pub fn llvm(src: &str) -> Program {
    assemble("t.s", src, Some(Syntax::Llvm)).unwrap_or_else(|e| panic!("assembly failed: {e:?}"))
}

/// Runs `p` once in a fresh interpreter with `options`.
pub fn run_with(p: &Program, options: RunOptions, input: &Input) -> Result<RunOutcome, RuntimeError> {
    Vm::with_options(p, options)?.run(input)
}

/// Runs `p` once in a fresh interpreter with default options, panicking on a runtime error.
pub fn run_ok(p: &Program, input: &Input) -> RunOutcome {
    Vm::new(p).and_then(|mut vm| vm.run(input)).unwrap_or_else(|e| panic!("run failed: {e}"))
}

/// Opens engine `name` ("interp" or "kernel") on `p`, panicking when it cannot (a rejection
/// included: cross-check programs are written to pass the verifier).
pub fn open(name: &str, p: &Program, input: &Input) -> Box<dyn Engine> {
    engine::open(name, p, &EngineOptions::default(), input).unwrap_or_else(|e| match e {
        EngineError::Rejected { log, .. } => panic!("{name} rejected the program:\n{log}"),
        e => panic!("{name}: {e}"),
    })
}

/// Runs `p` once on each engine and returns (interpreter, kernel) outcomes. Callers gate on
/// `ebpf_lab::kernel::require_or_skip` first.
pub fn both(p: &Program, input: &Input) -> (RunOutcome, RunOutcome) {
    let run = |name: &str| {
        let run = open(name, p, input).run(input).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(run.r0_bits, 64, "{name}: the wrapper must report all of r0");
        run.outcome
    };
    (run("interp"), run("kernel"))
}

/// LLVM-syntax stores that put the NUL-padded string `s` on the stack at `r10 - off`
/// (`off` a multiple of 8, at least the padded length), through `r9`.
pub fn stack_string(s: &[u8], off: i32) -> String {
    let mut bytes = s.to_vec();
    bytes.resize(s.len().div_ceil(8).max(1) * 8, 0);
    let mut out = String::new();
    for (i, chunk) in bytes.chunks(8).enumerate() {
        let v = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        out.push_str(&format!("r9 = {v:#x} ll\n*(u64 *)(r10 - {}) = r9\n", off - 8 * i as i32));
    }
    out
}

/// A little-endian `u64` at byte `at` of `bytes`.
pub fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

/// A little-endian `u32` at byte `at` of `bytes`.
pub fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"))
}
