//! The static verifier: decides, without a kernel and without root, what the Linux verifier
//! (privileged, kernel 6.x) decides about a [`Program`], and says why in the course's words.
//!
//! - [`tnum`]: tristate numbers (known and unknown bits);
//! - [`scalar`]: what is known of a number: tnum plus signed/unsigned 64/32-bit ranges;
//! - [`reg`], [`stack`], [`state`]: registers, stack slots, whole states and their comparison;
//! - [`cfg`]: structure checked before exploring; [`explore`]: the exploration itself;
//! - [`alu`], [`mem`], [`branch`], [`call`]: one kind of instruction each;
//! - [`log`]: the kernel-format log; [`explain`]: the decision in words.
//!
//! It never runs code.

pub mod alu;
pub mod branch;
pub mod call;
pub mod cfg;
pub mod explain;
pub mod explore;
pub mod log;
pub mod mem;
pub mod proof;
pub mod reg;
pub mod scalar;
pub mod stack;
pub mod state;
pub mod tnum;

pub use proof::AccessProof;
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
    /// Record the abstract states met at each instruction (for [`Verification::admits`]).
    pub keep_states: bool,
    /// Record what each memory access was proved to stay within ([`Verification::proofs`]).
    pub record_proofs: bool,
    /// The limit on processed instructions; `None` is the kernel's [`COMPLEXITY_LIMIT_INSNS`].
    /// A tighter bound lets a fuzzer or a grader give up on a path explosion sooner.
    pub insn_limit: Option<u64>,
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
    /// With [`VerifyOptions::keep_states`]: per slot, the states met before that instruction
    /// (at most 64 distinct ones per slot).
    pub states: Option<Vec<Vec<state::VState>>>,
    /// With [`VerifyOptions::record_proofs`] and only when accepted: per slot, what its memory
    /// access (if any) was proved to stay within on every path.
    pub proofs: Option<Vec<AccessProof>>,
}

impl Verification {
    /// True when the program was accepted.
    pub fn accepted(&self) -> bool {
        self.error.is_none()
    }

    /// Whether concrete value `value` of register `reg` (innermost frame) before the instruction
    /// at `slot` is admitted by some state recorded there: `None` when no state was recorded
    /// there (not kept, not reached, or more than 64 distinct states), else `Some(admitted)`.
    /// Pointers and unwritten registers admit any value (only scalars are checked).
    pub fn admits(&self, slot: usize, reg: u8, value: u64) -> Option<bool> {
        let states = self.states.as_ref()?.get(slot)?;
        if states.is_empty() || states.len() >= 64 {
            return None;
        }
        Some(states.iter().any(|st| {
            let r = &st.cur().regs[reg as usize % crate::isa::Reg::COUNT];
            r.kind != reg::RegKind::Scalar || r.var.contains(value)
        }))
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
    let mut env = match explore::Env::new(program, options) {
        Ok(env) => env,
        Err(e) => {
            let mut log = log::Log::new(options.log_level);
            log.line(&e.message);
            log.line(
                "processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0",
            );
            let hint = explain::hint(&e.message);
            return Verification {
                error: Some(Rejection { insn: e.insn, message: e.message, path: vec![], regs: vec![], hint }),
                log: log.into_text(),
                ..Verification::default()
            };
        }
    };
    let init = env.initial_state(options.mem_len);
    env.log.line(&log::state_text(&init, &env.maps, None));
    let result = env.run(init);
    let error = match result {
        Ok(()) => stack_depth_error(&env).map(|message| Rejection {
            insn: None,
            hint: Some("use less stack in the functions of the deepest call chain".into()),
            message,
            path: vec![],
            regs: vec![],
        }),
        Err(f) => {
            let regs = explain::notes(&f.err.regs, &f.state, &env.maps, env.prog_type);
            Some(Rejection { insn: f.insn, hint: explain::hint(&f.err.msg), message: f.err.msg, path: f.path, regs })
        }
    };
    let stats = env.stats();
    if let Some(e) = &error {
        env.log.line(&e.message);
    }
    env.log.line(&format!(
        "processed {} insns (limit {}) max_states_per_insn {} total_states {} peak_states {} mark_read {}",
        stats.processed,
        env.insn_limit,
        stats.max_states_per_insn,
        stats.total_states,
        stats.peak_states,
        stats.mark_read
    ));
    let states = env.kept.take();
    let proofs = env
        .proofs
        .take()
        .filter(|_| error.is_none())
        .map(|p| p.into_iter().map(|p| p.unwrap_or(AccessProof::Unproven)).collect());
    let warnings = if error.is_none() { std::mem::take(&mut env.warnings) } else { vec![] };
    Verification { error, stats, warnings, log: std::mem::take(&mut env.log).into_text(), states, proofs }
}

/// `check_max_stack_depth`: along every chain of calls (in instruction order, as the kernel walks
/// them), at most 8 frames, and the frames' stack (each rounded up to 16 bytes, as with the JIT)
/// within 512 bytes. A `mem` program's chain starts at the wrapper's frame.
fn stack_depth_error(env: &explore::Env) -> Option<String> {
    let depth = |sub: usize| (env.stack_depth.get(sub).copied().unwrap_or(0) as usize).next_multiple_of(16);
    walk_calls(env, 0, env.base_frames, depth(0))
}

/// One function of a call chain: `sub` at chain index `frame`, with `total` bytes of stack so far.
fn walk_calls(env: &explore::Env, sub: usize, frame: usize, total: usize) -> Option<String> {
    if total > mem::MAX_BPF_STACK as usize {
        return Some(format!("combined stack size of {} calls is {total}. Too large", frame + 1));
    }
    let insns = &env.program.insns;
    let subs = &env.cfg.subprogs;
    let (start, end) = (subs[sub], subs.get(sub + 1).copied().unwrap_or(env.cfg.insn_at.len()));
    for s in start..end {
        // Callbacks count as calls from where their address is taken, as in the kernel.
        let Some(
            i @ (crate::isa::Insn::Call(crate::isa::CallTarget::Local(_))
            | crate::isa::Insn::LoadImm64 { src: crate::isa::ImmSrc::Func, .. }),
        ) = env.cfg.insn(insns, s)
        else {
            continue;
        };
        let callee = env.cfg.subprog_of(i.branch_offset().map_or(0, |o| (s as i64 + o + 1) as usize));
        if frame + 1 >= call::MAX_CALL_FRAMES {
            return Some(format!("the call stack of {} frames is too deep !", frame + 1));
        }
        let d = (env.stack_depth.get(callee).copied().unwrap_or(0) as usize).next_multiple_of(16);
        if let Some(e) = walk_calls(env, callee, frame + 1, total + d) {
            return Some(e);
        }
    }
    None
}
