//! A run recorded instruction by instruction, for the step debugger: the machine after each
//! executed instruction (registers, call depth, the current frame's stack, and the maps after
//! each helper call). The interpreter is deterministic, so stepping back is reading an earlier
//! step; the recorded run is the ordinary traced run, with the same semantics.

use super::memory::{MAX_CALL_FRAMES, STACK_BASE, STACK_SIZE, STACK_STRIDE};
use super::{Input, RunOutcome, RuntimeError, Vm};
use crate::isa::{CallTarget, Insn};

/// Every map's entries (key, value), in map order.
pub type MapsSnapshot = Vec<Vec<(Vec<u8>, Vec<u8>)>>;

/// The machine after one executed instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// The slot executed.
    pub pc: usize,
    /// `r0`–`r10` afterwards.
    pub regs: [u64; 11],
    /// bpf-to-bpf frames below the current one (0 in the program's own frame).
    pub depth: usize,
    /// The current frame's 512 bytes of stack (index 0 is `fp-512`).
    pub stack: Vec<u8>,
    /// After a helper call or a store outside the stack: every map's entries (key, value), in
    /// map order.
    pub maps: Option<MapsSnapshot>,
}

impl Step {
    /// The machine of `vm` after slot `pc` (`insn`) left registers `regs` at call depth `depth`.
    pub(super) fn capture(vm: &Vm, pc: usize, insn: &Insn, regs: &[u64; 16], depth: usize) -> Step {
        let base = depth * STACK_SIZE;
        let stack = vm.mem.stack.get(base..base + STACK_SIZE).map_or_else(Vec::new, <[u8]>::to_vec);
        // Maps change through helpers and through stores into map values; stores to the stack
        // (the common case) cannot touch them.
        let off_stack = |dst: crate::isa::Reg, off: i16| {
            let addr = regs[dst.num() as usize].wrapping_add(off as i64 as u64);
            !(STACK_BASE..STACK_BASE + STACK_STRIDE * MAX_CALL_FRAMES as u64).contains(&addr)
        };
        let touches_maps = match *insn {
            Insn::Call(CallTarget::Helper(_)) | Insn::Callx { .. } => true,
            Insn::Store { dst, off, .. } | Insn::Atomic { dst, off, .. } => off_stack(dst, off),
            _ => false,
        };
        let maps = touches_maps.then(|| vm.mem.maps.iter().map(|m| m.entries()).collect());
        let mut r = [0; 11];
        r.copy_from_slice(&regs[..11]);
        Step { pc, regs: r, depth, stack, maps }
    }
}

/// A recorded run: the registers at entry and every step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Registers before the first instruction.
    pub start: [u64; 16],
    /// One entry per executed instruction, in order.
    pub steps: Vec<Step>,
}

impl Vm {
    /// Runs the program on `input` like [`Vm::run`], recording every step (keep the budget
    /// small: each step holds a copy of the frame's stack). The recording ends where the run
    /// ends: at `exit`, or before the instruction that faulted.
    pub fn run_recorded(&mut self, input: &Input) -> (Result<RunOutcome, RuntimeError>, Recorded) {
        let (result, recorded) = self.run_inner(input, true);
        (result, recorded.unwrap_or_default())
    }

    /// The maps' entries now, in map order.
    pub fn map_snapshot(&self) -> MapsSnapshot {
        self.mem.maps.iter().map(|m| m.entries()).collect()
    }
}
