//! What the verifier proved about each memory access, for an engine that may skip the checks it
//! made redundant (`run --engine jit --jit-checks unproven`). Recorded while exploring (when
//! [`VerifyOptions::record_proofs`](super::VerifyOptions::record_proofs) asks), handed out
//! only for accepted programs: a rejection stops the exploration before every path was seen.

use super::reg::{RegKind, RegState};

/// Where a load's, store's or atomic's address lies on every path the verifier explored to it,
/// within the bytes the access touches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessProof {
    /// Nothing proved: not an access, never reached, or reached through different kinds of
    /// pointer (or a kind no engine skips checks for: context, other frames' stacks, ...).
    Unproven,
    /// Within the stack frame of the function making the access.
    OwnStack,
    /// Within the packet, between `data` and `data_end`.
    Packet,
}

impl AccessProof {
    /// The proof an access through `reg` earns once the verifier has checked it, made in
    /// frame `curframe`.
    pub fn of(reg: &RegState, curframe: usize) -> AccessProof {
        match reg.kind {
            RegKind::Stack if reg.frame as usize == curframe => AccessProof::OwnStack,
            RegKind::Packet => AccessProof::Packet,
            _ => AccessProof::Unproven,
        }
    }

    /// What holds at a slot reached once with `self` (None: not yet reached) and again with
    /// `other`: only what both paths proved.
    pub fn merge(seen: Option<AccessProof>, other: AccessProof) -> AccessProof {
        match seen {
            None => other,
            Some(p) if p == other => p,
            Some(_) => AccessProof::Unproven,
        }
    }
}
