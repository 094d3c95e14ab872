//! The course: exercises for each section of the chapter "Introduction à eBPF", each with its
//! checks as data, graded on every engine by `ebpf-lab exercise`.
//!
//! - [`exercise`]: an exercise folder (statement, hints, starter, solution, `checks.toml`);
//! - [`toml`]: the small TOML subset `checks.toml` is written in;
//! - [`expect`]: an engine's results against a check's expectations;
//! - [`progress`]: the student's progress file.

pub mod exercise;
pub mod expect;
pub mod progress;
pub mod toml;

pub use exercise::{Check, Exercise, Lang, Verdict};
