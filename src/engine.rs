//! Engines: everything that can run a [`Program`] — the interpreter, the kernel, and later the
//! JIT — behind one trait, so `ebpf-lab run --engine` and `ebpf-lab check` treat them alike.
//!
//! A new engine plugs in by adding a line to [`ENGINES`] and an arm to [`open`]; `check` then
//! runs and compares it without further change.

use crate::interp::Vm;
use crate::jit::{JitChecks, JitVm};
use crate::kernel::{KernelEngine, KernelError, LoadOptions};
use crate::program::Program;
use crate::runtime::error::RuntimeError;
use crate::runtime::run::{Input, RunOptions, RunOutcome};
use std::fmt;

/// A map's contents as `(key, value)` byte pairs.
pub type MapEntries = Vec<(Vec<u8>, Vec<u8>)>;

/// One run's results, with how much of r0 the engine can see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineRun {
    /// What the run produced.
    pub outcome: RunOutcome,
    /// Bits of `outcome.r0` the engine reports (64, or 32 where the kernel cannot say more).
    pub r0_bits: u32,
}

/// Why an engine could not run a program.
#[derive(Debug)]
pub enum EngineError {
    /// The program failed at run time (the interpreter's diagnosis, with its instruction).
    Runtime(RuntimeError),
    /// The kernel verifier rejected the program; the log explains why.
    Rejected {
        /// The kernel's error (errno and explanation).
        error: KernelError,
        /// The verifier log.
        log: String,
    },
    /// The kernel could not be asked (no permission, a map it would not create, ...).
    Kernel(KernelError),
    /// The engine does not support this program or input.
    Unsupported(String),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Runtime(e) => write!(f, "{e}"),
            // In the verifier's own words; the errno's meaning only when the log has none.
            EngineError::Rejected { error, log } => write!(
                f,
                "the kernel verifier rejected the program: {}",
                crate::kernel::verifier_log::reason(log).unwrap_or_else(|| error.explanation())
            ),
            EngineError::Kernel(e) => write!(f, "{e}"),
            EngineError::Unsupported(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for EngineError {}

impl From<RuntimeError> for EngineError {
    fn from(e: RuntimeError) -> EngineError {
        EngineError::Runtime(e)
    }
}

/// Something that runs one loaded program, keeping its maps between runs.
pub trait Engine {
    /// Short name for reports (`interp`, `kernel`).
    fn name(&self) -> &'static str;
    /// Runs the program once.
    fn run(&mut self, input: &Input) -> Result<EngineRun, EngineError>;
    /// Runs the program once and reports only r0 (maps keep what the run did): rbpf's
    /// `execute_program`, for callers that want a verdict per packet at the engine's speed,
    /// with nothing built for them to drop. The same run as [`Engine::run`].
    fn run_r0(&mut self, input: &Input) -> Result<u64, EngineError> {
        self.run(input).map(|r| r.outcome.r0)
    }
    /// The contents of map `name`.
    fn map_entries(&self, name: &str) -> Option<MapEntries>;
    /// Writes one map entry from user space (pre-filling before a run, as `--map` does: one CPU's
    /// value for a per-CPU map is written to every CPU).
    fn map_update(&mut self, name: &str, key: &[u8], value: &[u8]) -> Result<(), String>;
}

/// Every engine ebpf-lab has, in the order `check` shows them.
pub const ENGINES: &[&str] = &["interp", "jit", "kernel"];

/// Settings shared by engines.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// Interpreter settings (budget, trace, seed, CPU).
    pub run: RunOptions,
    /// Kernel settings (log level, flags).
    pub kernel: LoadOptions,
    /// Which accesses the JIT checks.
    pub jit_checks: JitChecks,
}

/// Opens engine `name` on `program`. `input` is the input the program will run on: the kernel
/// verifies `mem` programs for their buffer's length.
pub fn open(
    name: &str,
    program: &Program,
    options: &EngineOptions,
    input: &Input,
) -> Result<Box<dyn Engine>, EngineError> {
    match name {
        "interp" => Ok(Box::new(Vm::with_options(program, options.run.clone())?)),
        "jit" => Ok(Box::new(JitVm::with_checks(program, options.run.clone(), options.jit_checks)?)),
        "kernel" => Ok(Box::new(KernelEngine::load(program, &options.kernel, input)?)),
        other => Err(EngineError::Unsupported(format!("unknown engine `{other}` (engines: {})", ENGINES.join(", ")))),
    }
}

impl Engine for Vm {
    fn name(&self) -> &'static str {
        "interp"
    }

    fn run(&mut self, input: &Input) -> Result<EngineRun, EngineError> {
        // Not through `Vm::run`: the outcome is built here, in the returned value, rather than
        // moved out of a `Result` into another.
        let (r0, st) = self.run_to_exit(input)?;
        Ok(EngineRun { outcome: self.finish(r0, st), r0_bits: 64 })
    }

    fn run_r0(&mut self, input: &Input) -> Result<u64, EngineError> {
        Ok(Vm::run_r0(self, input)?)
    }

    fn map_entries(&self, name: &str) -> Option<MapEntries> {
        self.map(name).map(|m| m.entries())
    }

    fn map_update(&mut self, name: &str, key: &[u8], value: &[u8]) -> Result<(), String> {
        let map = self.map_mut(name).ok_or_else(|| format!("no map `{name}`"))?;
        map.user_fill(key, value).map_err(|e| e.to_string())
    }
}

impl Engine for JitVm {
    fn name(&self) -> &'static str {
        "jit"
    }

    fn run(&mut self, input: &Input) -> Result<EngineRun, EngineError> {
        // Not through `JitVm::run`: the outcome is built here, in the returned value.
        let r0 = self.run_to_exit(input)?;
        Ok(EngineRun { outcome: self.finish(r0), r0_bits: 64 })
    }

    fn run_r0(&mut self, input: &Input) -> Result<u64, EngineError> {
        Ok(JitVm::run_r0(self, input)?)
    }

    fn map_entries(&self, name: &str) -> Option<MapEntries> {
        self.map(name).map(|m| m.entries())
    }

    fn map_update(&mut self, name: &str, key: &[u8], value: &[u8]) -> Result<(), String> {
        let map = self.map_mut(name).ok_or_else(|| format!("no map `{name}`"))?;
        map.user_fill(key, value).map_err(|e| e.to_string())
    }
}
