//! Shared helpers of the interpreter tests (included with `mod`).
#![allow(dead_code)]

use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::engine::{self, Engine, EngineError, EngineOptions};
use ebpf_lab::interp::{ErrorKind, Input, RunOptions, RunOutcome, RuntimeError, Vm};
use ebpf_lab::jit::JitVm;
use ebpf_lab::program::Program;

/// Assembles uBPF-syntax source, panicking with the errors (test programs are fixed).
pub fn prog(src: &str) -> Program {
    assemble("t.s", src, Some(Syntax::Ubpf)).unwrap_or_else(|e| panic!("assembly failed: {e:?}"))
}

/// Runs a `mem` program on `mem` (on the interpreter and the JIT, which must agree).
pub fn run_mem(src: &str, mem: Vec<u8>) -> Result<RunOutcome, RuntimeError> {
    run_with(&prog(src), RunOptions::default(), &Input::mem(mem))
}

/// Runs `p` once on the JIT too and checks it agrees with the interpreter's `interp` result:
/// the same r0, packet, context and printed lines, or the same error at the same instruction.
/// (The instruction count differs by design, and so may the point where a budget runs out.)
pub fn same_on_jit(p: &Program, options: RunOptions, input: &Input, interp: &Result<RunOutcome, RuntimeError>) {
    let jit = JitVm::with_options(p, options).and_then(|mut vm| vm.run(input));
    match (interp, &jit) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.r0, b.r0, "r0: interpreter vs JIT");
            assert_eq!(a.packet_out, b.packet_out, "packet: interpreter vs JIT");
            assert_eq!(a.ctx_out, b.ctx_out, "context: interpreter vs JIT");
            assert_eq!(a.trace_lines(), b.trace_lines(), "trace_printk: interpreter vs JIT");
        }
        (Err(a), Err(b)) if matches!(a.kind, ErrorKind::BudgetExhausted { .. }) => {
            assert_eq!(a.kind, b.kind, "budget error: interpreter vs JIT");
        }
        (Err(a), Err(b)) => assert_eq!(a, b, "error: interpreter vs JIT"),
        (Err(a), Ok(_)) if matches!(a.kind, ErrorKind::BudgetExhausted { .. }) => {}
        (a, b) => panic!("interpreter and JIT disagree:\n  interp: {a:?}\n  jit:    {b:?}"),
    }
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

/// Runs `p` once in a fresh interpreter with `options` (and on the JIT, which must agree).
pub fn run_with(p: &Program, options: RunOptions, input: &Input) -> Result<RunOutcome, RuntimeError> {
    let out = Vm::with_options(p, options.clone()).and_then(|mut vm| vm.run(input));
    same_on_jit(p, options, input, &out);
    out
}

/// Runs `p` once in a fresh interpreter with default options (and on the JIT, which must
/// agree), panicking on a runtime error.
pub fn run_ok(p: &Program, input: &Input) -> RunOutcome {
    run_with(p, RunOptions::default(), input).unwrap_or_else(|e| panic!("run failed: {e}"))
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
