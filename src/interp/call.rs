//! Helper calls (`call imm`, `callx reg`) through the runtime's helper table, and
//! `bpf_tail_call`, `bpf_loop` and `bpf_for_each_map_elem`, which only an engine can do.
//! bpf-to-bpf calls are handled in the run loop, since they only move the pc and the frame.
//!
//! A callback runs in the run loop like a bpf-to-bpf call: the helper pushes the callback's
//! frame and the loop jumps to it; the callback's `exit` comes back to `callback_returned`,
//! which calls it again or ends the helper. So the budget, the trace and the call depth count
//! the callback's instructions as any others.

use super::error::ErrorKind;
use super::{Frame, State, Vm};
use crate::runtime::callback::{self, CallbackLoop, Start};
use crate::runtime::env::{tail_call_target, MemEnv, TAIL_CALL_FAILED};
use crate::runtime::helpers::BPF_FUNC_TAIL_CALL;
use crate::runtime::memory::{frame_pointer, MAX_CALL_FRAMES};

/// A callback-calling helper in progress: its iteration and the op after its `call`.
pub(crate) struct Callbacks {
    iter: CallbackLoop,
    /// The op of the callback's first instruction.
    target: usize,
    /// The op after the helper's `call`, where the program goes on.
    ret: usize,
}

pub use crate::runtime::env::MAX_TAIL_CALL_CNT;

/// Calls helper `id` with `r1`–`r5` from `st.regs`; returns the new `r0`. A successful
/// `bpf_tail_call` sets `st.tail_call` for the run loop.
/// A callback-calling helper sets `st.enter` to the op its callback starts at, its frame pushed
/// (`ret` is the op after the `call`).
pub(crate) fn helper(vm: &mut Vm, st: &mut State, id: i64, ret: usize) -> Result<u64, ErrorKind> {
    let args = [st.regs[1], st.regs[2], st.regs[3], st.regs[4], st.regs[5]];
    if id == BPF_FUNC_TAIL_CALL as i64 {
        return Ok(tail_call(vm, st, args));
    }
    if callback::calls_back(id) {
        return match callback::start(&mut vm.mem, id, args)? {
            Start::Now(r0) => Ok(r0),
            Start::Iterate(iter) => {
                let target = iter.insn;
                if target >= vm.prog.insns.len() {
                    return Err(ErrorKind::Invalid(format!(
                        "the callback address points at instruction {target}, past the program's end"
                    )));
                }
                st.callbacks.push(Callbacks { iter, target, ret });
                next_call(vm, st)
            }
        };
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

/// The callback of the innermost callback-calling helper returned (its frame is popped, `r0` in
/// `st.regs`): the op to go on at, its next call's first or the one after the helper's `call`.
pub(crate) fn callback_returned(vm: &mut Vm, st: &mut State, ret: usize) -> Result<usize, ErrorKind> {
    let r0 = st.regs[0];
    if let Some(c) = st.callbacks.last_mut() {
        c.iter.returned(r0);
    }
    st.regs[0] = next_call(vm, st)?;
    Ok(st.enter.take().unwrap_or(ret))
}

/// Calls the innermost helper's callback again (its frame pushed, `st.enter` set) or ends that
/// helper; returns `r0` (the helper's result when it ended).
fn next_call(vm: &mut Vm, st: &mut State) -> Result<u64, ErrorKind> {
    let depth = st.frames.len() + 1;
    let cpu = vm.options.cpu;
    let Some(c) = st.callbacks.last_mut() else { return Ok(0) };
    match c.iter.next(&mut vm.mem, depth, cpu) {
        Some(args) => {
            if depth >= MAX_CALL_FRAMES {
                return Err(ErrorKind::CallDepth { max: MAX_CALL_FRAMES });
            }
            let saved = [st.regs[6], st.regs[7], st.regs[8], st.regs[9]];
            st.frames.push(Frame { ret: c.ret, prog: vm.current, saved, callback: true });
            st.regs[1..6].copy_from_slice(&args);
            st.regs[10] = frame_pointer(depth);
            st.enter = Some(c.target);
            Ok(st.regs[0])
        }
        None => {
            let c = st.callbacks.pop().expect("an iteration in progress");
            Ok(c.iter.result())
        }
    }
}
