//! Shared by the verifier tests (included with `mod`): a verdict in the terms the tests compare,
//! as the kernel gives it and as ebpf-lab's verifier gives it.
#![allow(dead_code)]

pub mod gen;

use ebpf_lab::kernel::{verifier_log, KernelProgram, LoadOptions};
use ebpf_lab::program::Program;
use ebpf_lab::verifier::{self, Verification, VerifyOptions};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

/// What a verifier decided: accepted, or rejected at an instruction with a first message line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// `insn` is the instruction the kernel refused (see `rejected_insn`); `None` when the
    /// kernel names none (its control-flow pass, a final stack-depth check, the complexity limit).
    Reject {
        insn: Option<usize>,
        message: String,
    },
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Accept => f.write_str("accept"),
            Verdict::Reject { insn: Some(n), message } => write!(f, "reject insn={n} {message:?}"),
            Verdict::Reject { insn: None, message } => write!(f, "reject {message:?}"),
        }
    }
}

impl Verdict {
    /// Parses what [`Display`](fmt::Display) writes: `accept`, `reject insn=N "msg"`, `reject "msg"`.
    pub fn parse(text: &str) -> Option<Verdict> {
        let text = text.trim();
        if text == "accept" {
            return Some(Verdict::Accept);
        }
        let rest = text.strip_prefix("reject")?.trim_start();
        let (insn, rest) = match rest.strip_prefix("insn=") {
            Some(r) => {
                let digits = r.bytes().take_while(u8::is_ascii_digit).count();
                (Some(r[..digits].parse().ok()?), r[digits..].trim_start())
            }
            None => (None, rest),
        };
        let message = rest.strip_prefix('"')?.strip_suffix('"')?.to_string();
        Some(Verdict::Reject { insn, message })
    }

    /// True when rejected.
    pub fn rejected(&self) -> bool {
        matches!(self, Verdict::Reject { .. })
    }

    /// The rejection's instruction, if any.
    pub fn insn(&self) -> Option<usize> {
        match self {
            Verdict::Reject { insn, .. } => *insn,
            Verdict::Accept => None,
        }
    }
}

/// The first line of the kernel's reason for a rejection: the first line after the last checked
/// instruction that is not statistics (`verifier_log::reason` joins them all).
pub fn first_message_line(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().collect();
    let is_insn = |l: &&str| {
        let d = l.bytes().take_while(u8::is_ascii_digit).count();
        d > 0 && l[d..].starts_with(": (")
    };
    let start = lines.iter().rposition(is_insn).map_or(0, |i| i + 1);
    lines[start..]
        .iter()
        .find(|l| !l.trim().is_empty() && !l.starts_with("processed ") && !l.starts_with("verification time"))
        // A few messages lack their newline, so the statistics run on after them.
        .map(|l| l.split_once("processed ").map_or(*l, |(m, _)| m).to_string())
}

/// The instruction a rejection is about. Most errors are found while checking the last
/// instruction the log shows; two are found on arriving at the next one, before it is printed:
/// an infinite loop (whose message names it) and the complexity limit (which names none, and
/// where it strikes depends on exploration order, so it is not compared).
fn rejected_insn(log: &str, message: &str) -> Option<usize> {
    if let Some(n) = message.strip_prefix("infinite loop detected at insn ") {
        return n.trim().parse().ok();
    }
    if message.starts_with("BPF program is too large") {
        return None;
    }
    verifier_log::guilty_pc(log)
}

/// The kernel's verdict (log level 1, so the log holds the failing path), and the instructions
/// it processed (`verified_insns`) when it accepted. `Err` when the kernel could not be asked.
pub fn kernel_verdict(program: &Program, mem_len: u32) -> Result<(Verdict, Option<u32>), String> {
    let opts = LoadOptions { log_level: 1, mem_len, ..LoadOptions::default() };
    let k = KernelProgram::load(program, &opts).map_err(|e| e.to_string())?;
    let v = k.verdict();
    Ok(match &v.error {
        None => (Verdict::Accept, v.verified_insns),
        Some(e) => {
            let message = first_message_line(&v.log).unwrap_or_else(|| format!("errno {}", e.errno_name()));
            let insn = rejected_insn(&v.log, &message);
            (Verdict::Reject { insn, message }, None)
        }
    })
}

/// ebpf-lab's verification, or why there is none: the panic's message when the verifier
/// panicked (so one bad program is reported rather than aborting the whole test), or a timeout
/// after [`timeout`] (so a verifier that never finishes does not hang the test; its thread is
/// left to end with the test process).
pub fn ebpf_lab_verify(program: &Program, opts: VerifyOptions) -> Result<Verification, String> {
    let program = program.clone();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = panic::catch_unwind(AssertUnwindSafe(|| verifier::verify(&program, &opts))).map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .map_or_else(|| "panicked".to_string(), |m| format!("panicked: {m}"))
        });
        let _ = tx.send(result);
    });
    let limit = timeout();
    rx.recv_timeout(limit).unwrap_or_else(|_| Err(format!("no verdict within {} s", limit.as_secs())))
}

/// How long one verification may take: `EBPF_LAB_VERIFIER_TIMEOUT_SECS`, default 20 s (at the
/// ~200k instructions/s of a debug build on the corpus's loops, the million-instruction limit
/// is reached in about 5 s).
pub fn timeout() -> Duration {
    let secs = std::env::var("EBPF_LAB_VERIFIER_TIMEOUT_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    Duration::from_secs(secs)
}

/// Options for a `mem` program of `mem_len` bytes (or any other type, with 0).
pub fn with_mem_len(mem_len: u32) -> VerifyOptions {
    VerifyOptions { mem_len, ..VerifyOptions::default() }
}

/// ebpf-lab's verdict in the compared terms.
pub fn verdict_of(v: &Verification) -> Verdict {
    match &v.error {
        None => Verdict::Accept,
        Some(r) => Verdict::Reject { insn: r.insn, message: r.message.lines().next().unwrap_or("").to_string() },
    }
}

/// Runs `f` with the panic message printer silenced (the verifier may still be a skeleton that
/// panics on every program; each panic is reported by the caller instead).
pub fn quietly<T>(f: impl FnOnce() -> T) -> T {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let out = f();
    panic::set_hook(previous);
    out
}
