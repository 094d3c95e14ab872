//! The static verifier: decides, without a kernel and without root, what the Linux verifier
//! (privileged, kernel 6.x) decides about a [`Program`], and says why in the course's words.
//!
//! - [`tnum`]: tristate numbers (known and unknown bits);
//! - [`scalar`]: what is known of a number: tnum plus signed/unsigned 64/32-bit ranges.
//!
//! It never runs code.

pub mod scalar;
pub mod tnum;

pub use scalar::ScalarValue;
pub use tnum::Tnum;

use crate::program::Program;

/// The kernel's limit on processed instructions (`BPF_COMPLEXITY_LIMIT_INSNS`).
pub const COMPLEXITY_LIMIT_INSNS: u64 = 1_000_000;

/// How to verify a program.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// Log detail, as the kernel's `log_level`: 0 none, 1 the path to an error and branch
    /// points, 2 every instruction with its state.
    pub log_level: u32,
    /// For `mem` programs: the input buffer's length. As in the kernel backend, `r1` points at
    /// that many bytes (a map value of that size; `r1 = 0` when 0) and `r2` holds the length.
    pub mem_len: u32,
}

/// The verifier's answer.
#[derive(Clone, Debug, Default)]
pub struct Verification {
    /// Why the program was rejected; `None` when accepted.
    pub error: Option<Rejection>,
    /// What the exploration cost, as the kernel's last log line reports it.
    pub stats: Stats,
    /// Accepted but worth knowing (e.g. a read of stack bytes never written).
    pub warnings: Vec<Warning>,
    /// The log in the kernel's format at `log_level` (empty at 0).
    pub log: String,
}

impl Verification {
    /// True when the program was accepted.
    pub fn accepted(&self) -> bool {
        self.error.is_none()
    }
}

/// A rejection: the kernel's words, where, and how the verifier got there.
#[derive(Clone, Debug, Default)]
pub struct Rejection {
    /// The instruction the kernel names (slot index, as in the kernel log), when there is one.
    pub insn: Option<usize>,
    /// The kernel's message, exactly (e.g. `R0 invalid mem access 'map_value_or_null'`).
    pub message: String,
    /// The branches taken on the way, oldest first.
    pub path: Vec<PathStep>,
    /// The registers the message is about, in the student's words.
    pub regs: Vec<RegNote>,
    /// The usual fix.
    pub hint: Option<String>,
}

/// One branch on the path to an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathStep {
    /// The branching instruction (slot index).
    pub insn: usize,
    /// Where control went (slot index).
    pub to: usize,
    /// True when the jump was taken, false when it fell through.
    pub taken: bool,
}

/// One register's state, explained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegNote {
    /// Register number.
    pub reg: u8,
    /// In words: "scalar in [0, 255]", "map value or NULL — not yet checked".
    pub words: String,
    /// The kernel log's spelling (`map_value_or_null(id=1,map=m,ks=4,vs=8)`).
    pub kernel: String,
}

/// Something accepted but worth a warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The instruction (slot index).
    pub insn: usize,
    /// What and why.
    pub message: String,
}

/// Exploration statistics, named as in the kernel's `processed N insns (limit 1000000)
/// max_states_per_insn M total_states T peak_states P mark_read R`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Instructions processed, counting each path.
    pub processed: u64,
    /// Most states kept at one instruction.
    pub max_states_per_insn: u64,
    /// States kept in all.
    pub total_states: u64,
    /// Most states kept at once.
    pub peak_states: u64,
    /// Registers marked as read.
    pub mark_read: u64,
}

/// Verifies `program`.
pub fn verify(program: &Program, options: &VerifyOptions) -> Verification {
    todo!("verify {} insns at log level {}", program.insns.len(), options.log_level)
}
