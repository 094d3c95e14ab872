//! Helper calls (`call imm`, `callx reg`) through the runtime's helper table, and
//! `bpf_tail_call`, which only an engine can do. bpf-to-bpf calls are handled in the run loop,
//! since they only move the pc and the frame.

use super::error::ErrorKind;
use super::memory::{self, Fault, Memory};
use super::{RunOptions, State, Vm};
use crate::runtime::helpers::{self, HelperEnv, HelperFault, BPF_FUNC_TAIL_CALL};
use crate::runtime::Map;

/// `MAX_TAIL_CALL_CNT`: a chain of tail calls may be at most this long.
pub const MAX_TAIL_CALL_CNT: u32 = 33;

/// The program's world as helpers see it: the VM's memory plus its deterministic clock,
/// random generator and "current task".
struct Env<'a> {
    mem: &'a mut Memory,
    options: &'a RunOptions,
    clock: u64,
    rng: &'a mut u64,
    trace: &'a mut Vec<String>,
}

/// Helpers report faults in their own terms; the engine adds the instruction.
fn bad(_: Fault, write: bool, addr: u64, len: usize) -> HelperFault {
    HelperFault::BadAccess { addr, len, write }
}

impl HelperEnv for Env<'_> {
    fn read(&self, addr: u64, len: usize) -> Result<Vec<u8>, HelperFault> {
        self.mem.read_bytes(addr, len).map_err(|f| bad(f, false, addr, len))
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), HelperFault> {
        self.mem.write_bytes(addr, data).map_err(|f| bad(f, true, addr, data.len()))
    }

    fn map_by_ptr(&mut self, map_ptr: u64) -> Result<(usize, &mut Map), HelperFault> {
        let rel = map_ptr.wrapping_sub(memory::MAP_PTR_BASE);
        if !rel.is_multiple_of(memory::MAP_PTR_STRIDE) {
            return Err(HelperFault::BadMap(map_ptr));
        }
        let idx = (rel / memory::MAP_PTR_STRIDE) as usize;
        match self.mem.maps.get_mut(idx) {
            Some(m) => Ok((idx, m)),
            None => Err(HelperFault::BadMap(map_ptr)),
        }
    }

    fn map_mut(&mut self, index: usize) -> Result<&mut Map, HelperFault> {
        let ptr = memory::MAP_PTR_BASE + index as u64 * memory::MAP_PTR_STRIDE;
        self.mem.maps.get_mut(index).ok_or(HelperFault::BadMap(ptr))
    }

    fn map_value_addr(&self, map_index: usize, offset: usize) -> u64 {
        memory::MAP_VALUE_BASE + map_index as u64 * memory::MAP_VALUE_STRIDE + offset as u64
    }

    fn map_offset_of(&self, addr: u64) -> Option<(usize, usize)> {
        let rel = addr.checked_sub(memory::MAP_VALUE_BASE)?;
        let idx = (rel / memory::MAP_VALUE_STRIDE) as usize;
        let off = (rel % memory::MAP_VALUE_STRIDE) as usize;
        (idx < self.mem.maps.len()).then_some((idx, off))
    }

    fn cpu(&self) -> u32 {
        self.options.cpu
    }

    fn now_ns(&self) -> u64 {
        self.clock
    }

    fn boot_ns(&self) -> u64 {
        // Boot time runs ahead of the monotonic clock by a fixed "suspended" second.
        self.clock + 1_000_000_000
    }

    fn prandom_u32(&mut self) -> u32 {
        // xorshift64, seeded by RunOptions::seed: reproducible runs.
        let mut x = (*self.rng).max(1);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *self.rng = x;
        (x >> 16) as u32
    }

    fn pid_tgid(&self) -> u64 {
        (4242u64 << 32) | 4242
    }

    fn uid_gid(&self) -> u64 {
        0
    }

    fn comm(&self) -> [u8; 16] {
        *b"ebpf-lab\0\0\0\0\0\0\0\0"
    }

    fn trace(&mut self, message: String) {
        self.trace.push(message);
    }
}

/// Calls helper `id` with `r1`–`r5` from `st.regs`; returns the new `r0`. A successful
/// `bpf_tail_call` sets `st.tail_call` for the run loop.
pub(crate) fn helper(vm: &mut Vm, st: &mut State, id: i64) -> Result<u64, ErrorKind> {
    let args = [st.regs[1], st.regs[2], st.regs[3], st.regs[4], st.regs[5]];
    let Ok(id32) = u32::try_from(id) else {
        return Err(ErrorKind::UnknownHelper { id });
    };
    if id32 == BPF_FUNC_TAIL_CALL {
        return Ok(tail_call(vm, st, args));
    }
    let Some(proto) = helpers::helper(id32).filter(|h| h.id != 0) else {
        return Err(ErrorKind::UnknownHelper { id });
    };
    // The clock advances 1 µs per helper call, so timestamps are distinct but reproducible.
    vm.clock += 1000;
    let mut env =
        Env { mem: &mut vm.mem, options: &vm.options, clock: vm.clock, rng: &mut vm.rng, trace: &mut st.trace_lines };
    helpers::call(&mut env, id32, args).map_err(|f| ErrorKind::HelperFault {
        id,
        name: proto.c_name(),
        message: f.to_string(),
    })
}

/// `bpf_tail_call(ctx, prog_array, index)`: on success the run continues in the target;
/// on failure (empty slot, bad index, more than `MAX_TAIL_CALL_CNT` calls) it returns a
/// negative error and execution falls through to the next instruction, as in the kernel.
fn tail_call(vm: &mut Vm, st: &mut State, args: [u64; 5]) -> u64 {
    const ENOENT: u64 = (-2i64) as u64;
    let rel = args[1].wrapping_sub(memory::MAP_PTR_BASE);
    let idx = (rel / memory::MAP_PTR_STRIDE) as usize;
    let Some(map) = vm.mem.maps.get(idx).filter(|_| rel.is_multiple_of(memory::MAP_PTR_STRIDE)) else {
        return ENOENT;
    };
    if st.tail_calls >= MAX_TAIL_CALL_CNT {
        return ENOENT;
    }
    match map.prog_at(args[2] as u32) {
        Some(p) if (p as usize) < vm.program_count() => {
            st.tail_calls += 1;
            st.tail_call = Some(p as usize);
            0
        }
        _ => ENOENT,
    }
}
