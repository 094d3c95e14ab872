//! The runtime shared by every engine (interpreter, JIT, verifier): pure logic, no engine inside.
//!
//! - [`maps`]: BPF maps with the kernel's semantics, each storing its values in one flat buffer so
//!   engines can hand programs real pointers into them.
//! - [`helpers`]: the helper table (kernel numbering, names, prototypes, implementations) and the
//!   [`helpers::HelperEnv`] trait engines implement for the helpers to use.
//! - [`ctx`]: program context layouts (`struct xdp_md`, `struct __sk_buff`, tracepoint records,
//!   `struct pt_regs`, `struct bpf_sock`, `struct bpf_sk_lookup`, raw tracepoint arguments)
//!   with the kernel's offsets and access rules, plus return-code names; [`ctx_build`] fills
//!   them in for one run.
//! - [`memory`]: the virtual address space every access is checked against; [`run`]: a run's
//!   input, options and outcome, and its address space; [`error`]: how a run can fail;
//!   [`env`]: the helpers' view of a run; [`callback`]: the engine-neutral half of the helpers
//!   that call back into the program (`bpf_loop`, `bpf_for_each_map_elem`); [`skb`]: what
//!   packet-changing skb helpers change; [`out_bytes`]: the packet and context an outcome shares
//!   with its engine instead of copying. Engine-neutral, so engines never import each other.

pub mod callback;
pub mod ctx;
pub mod ctx_build;
pub mod env;
pub mod error;
pub mod helpers;
pub mod maps;
pub mod memory;
pub mod out_bytes;
pub mod run;
pub mod skb;

pub use helpers::{helper, helper_by_name, HelperEnv, HelperFault, HelperProto};
pub use maps::{Map, MapError};
