//! The runtime shared by every engine (interpreter, JIT, verifier): pure logic, no engine inside.
//!
//! - [`maps`]: BPF maps with the kernel's semantics, each storing its values in one flat buffer so
//!   engines can hand programs real pointers into them.
//! - [`helpers`]: the helper table (kernel numbering, names, prototypes, implementations) and the
//!   [`helpers::HelperEnv`] trait engines implement for the helpers to use.
//! - [`ctx`]: program context layouts (`struct xdp_md`, `struct __sk_buff`, tracepoint records)
//!   with the kernel's offsets and access rules, plus return-code names.

pub mod ctx;
pub mod helpers;
pub mod maps;

pub use helpers::{helper, helper_by_name, HelperEnv, HelperFault, HelperProto};
pub use maps::{Map, MapError};
