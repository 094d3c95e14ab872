//! `ebpf-lab debug`: a step debugger over a recorded interpreter run ([`session`]), with the
//! verifier's knowledge beside every concrete value, drawn with ratatui ([`screen`]).

pub mod screen;
pub mod session;

pub use session::Session;
