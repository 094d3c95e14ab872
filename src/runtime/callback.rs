//! Helpers that call back into the program: `bpf_loop` (181) and `bpf_for_each_map_elem` (164).
//!
//! A helper of the table cannot run program code, so each engine runs the callback itself; this
//! module is the engine-neutral half: it checks the helper's arguments, then hands out the
//! arguments of each call of the callback ([`CallbackLoop::next`]), hears what it returned
//! ([`CallbackLoop::returned`]) and gives the helper's result ([`CallbackLoop::result`]), with
//! the kernel's semantics (kernel/bpf/bpf_iter.c `bpf_loop`, arraymap.c and hashtab.c
//! `bpf_for_each_*_elem`):
//!
//! - `bpf_loop(nr_loops, callback, ctx, flags)`: `flags` must be 0 (else `-EINVAL`), `nr_loops`
//!   (32 bits) at most `1 << 23` (else `-E2BIG`); `callback(i, ctx)` returns 0 to go on, 1 to stop;
//!   the result is the number of calls made.
//! - `bpf_for_each_map_elem(map, callback, ctx, flags)`: `flags` must be 0 (else `-EINVAL`);
//!   `callback(map, &key, &value, ctx)` for each element (every index of an array, every present
//!   key of a hash; this CPU's copy of per-CPU values), same stop rule; the result is the number
//!   of elements visited. The value pointer points into the map; the key is read-only (the kernel
//!   passes an array's index on its own stack and a hash key inside the element): here it lives
//!   in a read-only region per call depth (see [`Memory::set_callback_key`]).
//!
//! Hash elements are visited in ebpf-lab's iteration order (insertion order); the kernel walks
//! its buckets, so programs whose result depends on the order differ between engines and kernel.

use super::error::ErrorKind;
use super::memory::{Memory, CODE_BASE, MAP_PTR_BASE, MAP_PTR_STRIDE, MAP_VALUE_BASE, MAP_VALUE_STRIDE};
use crate::program::MapType;

/// `BPF_FUNC_for_each_map_elem`.
pub const BPF_FUNC_FOR_EACH_MAP_ELEM: u32 = 164;
/// `BPF_FUNC_loop`.
pub const BPF_FUNC_LOOP: u32 = 181;
/// `BPF_MAX_LOOPS`: the most iterations one `bpf_loop` call may ask for.
pub const BPF_MAX_LOOPS: u64 = 8 << 20;

const EINVAL: u64 = (-22i64) as u64;
const E2BIG: u64 = (-7i64) as u64;

/// Whether helper `id` calls back into the program (the engine must run it, not the table).
pub fn calls_back(id: i64) -> bool {
    id == BPF_FUNC_LOOP as i64 || id == BPF_FUNC_FOR_EACH_MAP_ELEM as i64
}

/// What a callback-calling helper does first.
pub enum Start {
    /// It returns at once with this `r0` (bad flags, too many loops, nothing to visit is not
    /// this: an empty iteration is a [`CallbackLoop`] that ends at the first `next`).
    Now(u64),
    /// It calls the callback (at [`CallbackLoop::insn`]), repeatedly.
    Iterate(CallbackLoop),
}

/// What is being iterated.
enum Over {
    /// `bpf_loop`: `n` calls.
    Loop { n: u64 },
    /// `bpf_for_each_map_elem` on map `map` (its handle is `map_ptr`): the keys to visit (a
    /// snapshot; a key deleted meanwhile is skipped, as the kernel's walk would not meet it).
    Map { map: usize, map_ptr: u64, keys: Vec<Vec<u8>>, next: usize },
}

/// One callback-calling helper call in progress.
pub struct CallbackLoop {
    /// The index (in `Program::insns`) of the callback's first instruction.
    pub insn: usize,
    over: Over,
    ctx: u64,
    /// Calls made so far.
    calls: u64,
    /// The last call returned non-zero.
    stopped: bool,
}

/// Starts helper `id` (see [`calls_back`]) with `r1`–`r5` = `args`, on `cpu`.
pub fn start(mem: &mut Memory, id: i64, args: [u64; 5]) -> Result<Start, ErrorKind> {
    let insn = callback_insn(args[1])?;
    let loop_of = |over| Start::Iterate(CallbackLoop { insn, over, ctx: args[2], calls: 0, stopped: false });
    if args[3] != 0 {
        return Ok(Start::Now(EINVAL));
    }
    if id == BPF_FUNC_LOOP as i64 {
        let n = args[0] as u32 as u64;
        if n > BPF_MAX_LOOPS {
            return Ok(Start::Now(E2BIG));
        }
        return Ok(loop_of(Over::Loop { n }));
    }
    let rel = args[0].wrapping_sub(MAP_PTR_BASE);
    let index = (rel / MAP_PTR_STRIDE) as usize;
    let Some(map) = mem.maps.get(index).filter(|_| rel.is_multiple_of(MAP_PTR_STRIDE)) else {
        return Err(helper_error(id, format!("{:#x} is not a map reference", args[0])));
    };
    let keys = match map.map_type() {
        MapType::Array | MapType::PercpuArray => {
            (0..map.def().max_entries).map(|i| i.to_le_bytes().to_vec()).collect::<Vec<_>>()
        }
        MapType::Hash | MapType::PercpuHash | MapType::LruHash => {
            let mut keys: Vec<Vec<u8>> = Vec::new();
            while let Ok(k) = map.get_next_key(keys.last().map(Vec::as_slice)) {
                if keys.len() > map.def().max_entries as usize {
                    break;
                }
                keys.push(k);
            }
            keys
        }
        t => {
            return Err(helper_error(id, format!("a {} map has no elements to visit", t.name())));
        }
    };
    Ok(loop_of(Over::Map { map: index, map_ptr: args[0], keys, next: 0 }))
}

fn helper_error(id: i64, message: String) -> ErrorKind {
    let name = if id == BPF_FUNC_LOOP as i64 { "bpf_loop" } else { "bpf_for_each_map_elem" };
    ErrorKind::HelperFault { id, name: name.into(), message }
}

/// The instruction a callback address (`lddw rX, func` gives `CODE_BASE + 8 * index`) designates.
fn callback_insn(addr: u64) -> Result<usize, ErrorKind> {
    let rel = addr.wrapping_sub(CODE_BASE);
    if rel.is_multiple_of(8) && rel < 1 << 24 {
        Ok((rel / 8) as usize)
    } else {
        Err(ErrorKind::Invalid(format!("{addr:#x} is not a callback address (load one with `rX = func(name) ll`)")))
    }
}

impl CallbackLoop {
    /// The arguments `r1`–`r5` of the next call of the callback, which runs at call depth
    /// `depth` (its frame's number) on `cpu`; `None` when the helper is done.
    pub fn next(&mut self, mem: &mut Memory, depth: usize, cpu: u32) -> Option<[u64; 5]> {
        if self.stopped {
            return None;
        }
        let ctx = self.ctx;
        let args = match &mut self.over {
            Over::Loop { n } => {
                if self.calls >= *n {
                    return None;
                }
                [self.calls, ctx, 0, 0, 0]
            }
            Over::Map { map, map_ptr, keys, next } => loop {
                let key = keys.get(*next)?.clone();
                *next += 1;
                let m = mem.maps.get_mut(*map)?;
                let Some(offset) = m.lookup(&key, cpu) else { continue };
                let name = format!("key of map `{}`", m.def().name);
                let value = MAP_VALUE_BASE + *map as u64 * MAP_VALUE_STRIDE + offset as u64;
                let key_addr = mem.set_callback_key(depth, &key, name);
                break [*map_ptr, key_addr, value, ctx, 0];
            },
        };
        self.calls += 1;
        Some(args)
    }

    /// The callback returned `r0`: any non-zero value stops the iteration (the verifier only
    /// lets 0 and 1 through).
    pub fn returned(&mut self, r0: u64) {
        self.stopped = r0 != 0;
    }

    /// The helper's result: the number of calls made.
    pub fn result(&self) -> u64 {
        self.calls
    }
}
