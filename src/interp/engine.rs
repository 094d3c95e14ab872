//! The engine trait: what the interpreter, the JIT and the kernel backend have in common, so
//! tools can run the same program on each and compare.

use super::error::RuntimeError;
use super::{Input, RunOutcome};

/// Something that runs a loaded program on an input.
pub trait Engine {
    /// Short name for reports ("interp", "jit", "kernel").
    fn name(&self) -> &str;
    /// Runs the program once on `input`. Map state persists between runs.
    fn run(&mut self, input: &Input) -> Result<RunOutcome, RuntimeError>;
    /// The contents of map `name` as `(key, value)` pairs, in key order for arrays.
    fn map_entries(&self, name: &str) -> Option<Vec<(Vec<u8>, Vec<u8>)>>;
}
