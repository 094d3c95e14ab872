//! Runtime errors: every way a run can end other than `exit` from the main function.
//!
//! Each error names the instruction (its slot pc, the kernel's instruction index, and the source
//! location when the program was assembled) so a student can go straight to the faulty line.

use std::fmt;

/// Whether a faulting memory access read or wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load (or the read half of an atomic).
    Read,
    /// A store (or the write half of an atomic).
    Write,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
        })
    }
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// An access outside every region; `place` says where it landed relative to the nearest
    /// region ("8 bytes past the end of the stack of frame 0").
    OutOfBounds {
        /// The virtual address accessed.
        addr: u64,
        /// Access size in bytes.
        size: usize,
        /// Read or write.
        access: Access,
        /// The address relative to the nearest region.
        place: String,
    },
    /// An access in the null page (the first 4 KiB).
    NullDeref {
        /// The virtual address accessed.
        addr: u64,
        /// Read or write.
        access: Access,
    },
    /// A write to a region the program may only read.
    ReadOnly {
        /// The virtual address written.
        addr: u64,
        /// The region's name.
        region: String,
    },
    /// A context access the program type does not allow (bad offset, size or a read-only field).
    BadCtxAccess {
        /// Offset into the context structure.
        offset: u64,
        /// Access size.
        size: usize,
        /// Read or write.
        access: Access,
        /// Why it is refused.
        reason: String,
    },
    /// The executed-instruction budget ran out (a runaway loop).
    BudgetExhausted {
        /// The budget that was exhausted.
        budget: u64,
    },
    /// A bpf-to-bpf call would exceed the maximum call depth.
    CallDepth {
        /// The maximum number of frames (`MAX_CALL_FRAMES`).
        max: usize,
    },
    /// Execution ran past the last instruction.
    FellOffEnd,
    /// A call to a helper number ebpf-lab does not implement.
    UnknownHelper {
        /// The helper number.
        id: i64,
    },
    /// A helper reported a fault (bad pointer argument, unsupported argument...).
    HelperFault {
        /// Helper number.
        id: i64,
        /// Helper name.
        name: String,
        /// What it reported.
        message: String,
    },
    /// The program uses something the interpreter cannot run (kfuncs, BTF ids, ...), or is
    /// malformed in a way a loader would reject (bad jump target, write to r10).
    Invalid(String),
    /// The input does not match the program type (e.g. a packet for a `mem` program).
    BadInput(String),
}

/// A runtime error, located at an instruction when one is to blame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeError {
    /// What went wrong.
    pub kind: ErrorKind,
    /// Slot index (kernel instruction index) of the faulting instruction.
    pub pc: Option<usize>,
    /// Index into `Program::insns` of the faulting instruction.
    pub index: Option<usize>,
    /// `file:line:col` of the instruction, when the program has a source.
    pub location: Option<String>,
}

impl RuntimeError {
    /// An error not tied to an instruction.
    pub fn new(kind: ErrorKind) -> RuntimeError {
        RuntimeError { kind, pc: None, index: None, location: None }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::OutOfBounds { addr, size, access, place } => {
                let unit = if *size == 1 { "byte" } else { "bytes" };
                write!(f, "invalid {access} of {size} {unit} at {addr:#x}: {place}")
            }
            ErrorKind::NullDeref { addr, access } => {
                write!(f, "invalid {access} at address {addr:#x}: null pointer dereference")
            }
            ErrorKind::ReadOnly { addr, region } => write!(f, "write to read-only {region} at {addr:#x}"),
            ErrorKind::BadCtxAccess { offset, size, access, reason } => {
                write!(f, "invalid bpf_context access off={offset} size={size} ({access}): {reason}")
            }
            ErrorKind::BudgetExhausted { budget } => {
                write!(f, "instruction budget of {budget} exhausted (runaway loop?)")
            }
            ErrorKind::CallDepth { max } => write!(f, "the call stack of {max} frames is too deep"),
            ErrorKind::FellOffEnd => write!(f, "execution fell off the end of the program (missing exit?)"),
            ErrorKind::UnknownHelper { id } => write!(f, "invalid func unknown#{id}"),
            ErrorKind::HelperFault { id, name, message } => write!(f, "helper {name}#{id}: {message}"),
            ErrorKind::Invalid(msg) => f.write_str(msg),
            ErrorKind::BadInput(msg) => f.write_str(msg),
        }
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(pc) = self.pc {
            write!(f, "insn {pc}")?;
            if let Some(loc) = &self.location {
                write!(f, " ({loc})")?;
            }
            f.write_str(": ")?;
        }
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for RuntimeError {}

impl RuntimeError {
    /// An error at instruction `index` of `prog` (`index == prog.insns.len()` is the end of the
    /// program, which has a slot pc but no instruction).
    pub fn at_insn(prog: &crate::program::Program, index: usize, kind: ErrorKind) -> RuntimeError {
        let pcs = prog.slot_pcs();
        let index = index.min(pcs.len().saturating_sub(1));
        let insn = (index < prog.insns.len()).then_some(index);
        RuntimeError { kind, pc: pcs.get(index).copied(), index: insn, location: insn.and_then(|i| prog.location(i)) }
    }
}
