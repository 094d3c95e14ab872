//! Helper calls (`call imm`, `callx reg`) through the runtime's helper table, and
//! `bpf_tail_call`, which only an engine can do. bpf-to-bpf calls are handled in the run loop,
//! since they only move the pc and the frame.

use super::error::ErrorKind;
use super::{State, Vm};
use crate::runtime::env::{tail_call_target, MemEnv, TAIL_CALL_FAILED};
use crate::runtime::helpers::BPF_FUNC_TAIL_CALL;

pub use crate::runtime::env::MAX_TAIL_CALL_CNT;

/// Calls helper `id` with `r1`–`r5` from `st.regs`; returns the new `r0`. A successful
/// `bpf_tail_call` sets `st.tail_call` for the run loop.
pub(crate) fn helper(vm: &mut Vm, st: &mut State, id: i64) -> Result<u64, ErrorKind> {
    let args = [st.regs[1], st.regs[2], st.regs[3], st.regs[4], st.regs[5]];
    if id == BPF_FUNC_TAIL_CALL as i64 {
        return Ok(tail_call(vm, st, args));
    }
    // The clock advances 1 µs per helper call, so timestamps are distinct but reproducible.
    vm.clock += 1000;
    let mut env = MemEnv {
        mem: &mut vm.mem,
        options: &vm.options,
        clock: vm.clock,
        rng: &mut vm.rng,
        trace: &mut st.trace_lines,
    };
    env.call(id, args)
}

/// `bpf_tail_call(ctx, prog_array, index)`: on success the run continues in the target;
/// on failure (empty slot, bad index, more than `MAX_TAIL_CALL_CNT` calls) it returns a
/// negative error and execution falls through to the next instruction, as in the kernel.
fn tail_call(vm: &mut Vm, st: &mut State, args: [u64; 5]) -> u64 {
    match tail_call_target(&vm.mem, args, st.tail_calls, vm.program_count()) {
        Some(p) => {
            st.tail_calls += 1;
            st.tail_call = Some(p);
            0
        }
        None => TAIL_CALL_FAILED,
    }
}
