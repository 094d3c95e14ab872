//! Kernel backend: loads the lab's bytecode into the running Linux kernel.
//!
//! [`sys`] is the raw `bpf(2)` layer (attribute structs, owned fds, map
//! and program commands); [`error`] explains its failures.

use std::io::Write;

pub mod attach;
pub mod backend;
pub mod engine;
pub mod error;
pub mod func_btf;
pub mod perf;
pub mod sys;
pub mod trace_pipe;
pub mod verifier_log;
pub mod wrapper;

pub use backend::{KernelInput, KernelProgram, KernelRun, LoadOptions, Verdict};
pub use engine::KernelEngine;
pub use error::{Command, KernelError, ENOTSUPP};
pub use sys::{
    availability, map_create, map_delete, map_get_next_key, map_lookup, map_update, possible_cpus, prog_info,
    prog_load, prog_test_run, LoadedProg, MapFd, ProgFd, ProgInfo, ProgLoad, TestRun, TestRunResult, Unavailable,
};

/// Gate for tests that need the real kernel. Returns `true` when BPF
/// programs can be loaded. Otherwise prints one line
/// `skipping: <reason> [<test>]` (once per test name, however often it is asked) and returns `false` — unless the
/// environment sets `EBPF_LAB_REQUIRE_KERNEL=1`, in which case it panics
/// with the reason so CI cannot silently skip.
pub fn require_or_skip(test: &str) -> bool {
    match availability() {
        Ok(()) => true,
        Err(why) => {
            if std::env::var("EBPF_LAB_REQUIRE_KERNEL").as_deref() == Ok("1") {
                panic!("{test}: kernel required (EBPF_LAB_REQUIRE_KERNEL=1) but unavailable: {why}");
            }
            // One line per test: a proptest asks once per case, and thousands of identical
            // lines would bury the log.
            static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
            let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
            if !said.iter().any(|t| t == test) {
                said.push(test.to_string());
                // Write to the stderr handle rather than with eprintln!: the
                // test harness captures the print macros of passing tests, and
                // a skip must stay visible in the CI log.
                let _ = writeln!(std::io::stderr(), "skipping: {why} [{test}]");
            }
            false
        }
    }
}
