//! The block native code works on (`r12` points to it during a run) and the Rust functions it
//! calls out to: the slow path of memory accesses, helpers, legacy packet loads and errors.
//!
//! Native code never sees a host pointer it did not get from [`Memory::resolve`]: the fast path
//! of an access compares the virtual address against two cached region windows ([`Hot`]), a
//! context access against the address its site last had validated (the site cache), and
//! everything else asks Rust, which checks it exactly as the interpreter does.

use super::compile::Compiled;
use crate::program::Program;
use crate::runtime::env::{tail_call_target, MemEnv, TAIL_CALL_FAILED};
use crate::runtime::error::{Access, ErrorKind};
use crate::runtime::helpers::BPF_FUNC_TAIL_CALL;
use crate::runtime::memory::{load_packet, Memory, Window, CTX_BASE, MAX_CALL_FRAMES, PACKET_BASE, STACK_SIZE};
use crate::runtime::run::RunOptions;

/// A cached region window: an access of size class `c` (1, 2, 4, 8 bytes) at virtual `addr`
/// is inside when `addr - base < lim[c]` (reads) or `< lim[4 + c]` (writes); a limit of 0
/// never matches.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Hot {
    /// First virtual address.
    pub base: u64,
    /// Host address of `base`.
    pub host: u64,
    /// `len - size + 1` per size class, reads then writes (0 when the access cannot fit).
    pub lim: [u64; 8],
}

impl Hot {
    /// The window of `w`.
    pub fn of(w: &Window) -> Hot {
        let mut lim = [0; 8];
        for (c, n) in [1u64, 2, 4, 8].into_iter().enumerate() {
            let l = if w.len >= n { w.len - n + 1 } else { 0 };
            lim[c] = l;
            lim[4 + c] = if w.writable { l } else { 0 };
        }
        Hot { base: w.base, host: w.host as u64, lim }
    }
}

/// What native code keeps between instructions besides the registers. `repr(C)`: the code
/// generator addresses the fields by their offsets.
#[repr(C)]
pub struct JitCtx {
    /// Region windows: 0 for the last data region hit, 1 for the last stack frame.
    pub hot: [Hot; 2],
    /// Instructions left in the budget (charged at back-edges and calls; in r9 while native
    /// code runs, here across callouts and after the run).
    pub room: u64,
    /// Call depth: 0 in the main function.
    pub depth: u64,
    /// `rsp` just before the main function was called, to unwind to on faults.
    pub saved_rsp: u64,
    /// `rsp` across a call out to Rust (which needs it 16-byte aligned).
    pub tmp_rsp: u64,
    /// Scratch for instructions that need more registers than r10 and r11 (division, atomics).
    pub tmp: u64,
    /// Set by a callout: 1 = fault (in `Rt::error`), 2 = a tail call was taken, 3 = end the
    /// program with r0 = 0 (an out-of-bounds `LD_ABS`), 4 = return from this frame (its tail
    /// call's target has run).
    pub flag: u64,
    /// The eBPF registers r0–r10 at entry and exit, and r1–r5 across helper calls.
    pub regs: [u64; 11],
    /// The Rust side of the run.
    pub rt: *mut Rt<'static>,
    /// The running program's site cache: per access site, the context address validated there
    /// (0 = none), so a repeated context access costs a compare instead of a callout.
    pub sites: *mut u64,
    /// The running program's `Compiled::site_info`.
    pub site_info: *const u64,
    /// Host address of the context's first byte (`CTX_BASE`).
    pub ctx_host: u64,
    /// The context's length: a cached address is used only below it.
    pub ctx_len: u64,
    /// Host address of the current frame's `r10` (accesses the verifier proved to stay in the
    /// frame skip the check: host = virtual - r10 + this).
    pub fp_host: u64,
    /// Host address minus virtual address of packet bytes (for proved packet accesses).
    pub pkt_delta: u64,
}

impl JitCtx {
    /// Points the context fields at the run's current buffers (after setup and after every
    /// helper, which may move them).
    pub fn refresh(&mut self, mem: &Memory) {
        self.ctx_host = mem.ctx.as_ptr() as u64;
        self.ctx_len = mem.ctx.len() as u64;
        self.pkt_delta = (mem.packet.as_ptr() as u64).wrapping_sub(PACKET_BASE);
    }
}

/// `flag` values.
pub const FLAG_FAULT: u64 = 1;
/// A tail call was taken: the run continues in `Rt::tail`.
pub const FLAG_TAIL: u64 = 2;
/// End the run now with r0 = 0.
pub const FLAG_EXIT0: u64 = 3;
/// A subprogram's tail call has run its target: the subprogram returns the target's r0 to its
/// caller, as its frame was replaced.
pub const FLAG_RETURN: u64 = 4;

/// The Rust side of one run, reached from callouts through [`JitCtx::rt`].
pub struct Rt<'a> {
    /// The run's memory.
    pub mem: &'a mut Memory,
    /// The run's options.
    pub options: &'a RunOptions,
    /// The helpers' clock.
    pub clock: &'a mut u64,
    /// The random generator's state.
    pub rng: &'a mut u64,
    /// `bpf_trace_printk` lines.
    pub trace: Vec<String>,
    /// The fault and the instruction index it happened at.
    pub error: Option<(ErrorKind, usize)>,
    /// The program a successful tail call continues in.
    pub tail: Option<usize>,
    /// Tail calls taken so far.
    pub tail_calls: u32,
    /// Every loaded program: the main one at 0, then tail-call targets.
    pub programs: &'a [(Program, Compiled)],
    /// The program running now (errors name its instructions).
    pub current: usize,
    /// Call depth of the frame the current program started in: a tail call from there goes
    /// back to `run_chain`'s loop, one from deeper runs its target in place of that frame.
    pub base_depth: u64,
    /// Context accesses already validated, kept across runs: `(address, size | kind << 8 |
    /// context length << 16)`. Whether the layout allows an access depends on nothing else, so
    /// a repeated one skips the region scan and the layout's rules.
    pub ctx_seen: &'a mut Vec<(u64, u64)>,
    /// The site caches of every program, one after the other (see [`JitCtx::sites`]).
    pub sites: *mut u64,
    /// Where each program's site cache starts in `sites`.
    pub site_base: &'a [usize],
}

/// At most this many validated context accesses are remembered.
const CTX_SEEN_MAX: usize = 64;

/// `info` of [`jit_resolve`]: the size in the low byte, then the access kind (4 bits), the
/// offset in [`Hot`] of the limit the access compares against (8 bits), the access site
/// (22 bits) and the instruction index (22 bits).
pub const INFO_KIND_SHIFT: u32 = 8;
/// See [`INFO_KIND_SHIFT`].
pub const INFO_LIM_SHIFT: u32 = 12;
/// See [`INFO_KIND_SHIFT`].
pub const INFO_SITE_SHIFT: u32 = 20;
/// See [`INFO_KIND_SHIFT`].
pub const INFO_IDX_SHIFT: u32 = 42;
/// Sites and instruction indexes fit in 22 bits.
pub const INFO_FIELD_MASK: u64 = (1 << 22) - 1;

/// Access kind: a load.
pub const KIND_READ: u64 = 0;
/// A store.
pub const KIND_WRITE: u64 = 1;
/// An atomic read-modify-write (refused on the context).
pub const KIND_ATOMIC: u64 = 2;

/// Error codes of [`jit_raise`].
pub const RAISE_BUDGET: u64 = 0;
/// Too many call frames.
pub const RAISE_DEPTH: u64 = 1;
/// Ran past the last instruction.
pub const RAISE_FELL_OFF: u64 = 2;
/// First code of the compile-time errors (`Compiled::statics` of the running program).
pub const RAISE_STATIC: u64 = 3;

/// The callouts reach the run through the context's raw pointer.
///
/// # Safety
/// `ctx` is the live context of a run, whose `rt` points to that run's [`Rt`].
unsafe fn rt<'a>(ctx: *mut JitCtx) -> &'a mut Rt<'static> {
    unsafe { &mut *(*ctx).rt }
}

/// Records a fault at instruction `idx` and raises the flag.
fn fault(ctx: *mut JitCtx, kind: ErrorKind, idx: usize) {
    unsafe {
        rt(ctx).error = Some((kind, idx));
        (*ctx).flag = FLAG_FAULT;
    }
}

/// The slow path of a load, store or atomic: the host address of the access, or 0 after
/// recording the fault. Refills the window the access hit.
pub(super) unsafe extern "C" fn jit_resolve(ctx: *mut JitCtx, addr: u64, info: u64) -> u64 {
    let size = (info & 0xff) as usize;
    let kind = (info >> INFO_KIND_SHIFT) & 0xf;
    let site = ((info >> INFO_SITE_SHIFT) & INFO_FIELD_MASK) as usize;
    let idx = (info >> INFO_IDX_SHIFT) as usize;
    let rt = unsafe { rt(ctx) };
    if kind == KIND_ATOMIC {
        if let Err(f) = rt.mem.refuse_ctx_atomic(addr, size) {
            fault(ctx, f.0, idx);
            return 0;
        }
    }
    // An atomic reads before it writes: a bad address is reported as the read's fault.
    if kind == KIND_ATOMIC {
        if let Err(f) = rt.mem.resolve(addr, size, Access::Read) {
            fault(ctx, f.0, idx);
            return 0;
        }
    }
    let seen = (addr, size as u64 | kind << 8 | (rt.mem.ctx.len() as u64) << 16);
    let in_ctx = addr.wrapping_sub(CTX_BASE) < rt.mem.ctx.len() as u64;
    // Whether the layout allows a context access depends on nothing but its address, size,
    // kind and the context's length: the site (fixed size and kind) remembers the address, and
    // `JitVm::run` forgets every site's when the length changes.
    let remember = |ctx: *mut JitCtx| unsafe { *(*ctx).sites.add(site) = addr };
    if kind != KIND_ATOMIC && in_ctx && rt.ctx_seen.contains(&seen) {
        remember(ctx);
        // SAFETY: validated before for this context length: the access lies within `ctx`.
        return unsafe { rt.mem.ctx.as_mut_ptr().add((addr - CTX_BASE) as usize) } as u64;
    }
    let access = if kind == KIND_READ { Access::Read } else { Access::Write };
    match rt.mem.resolve(addr, size, access) {
        Ok((host, window)) => {
            match window {
                Some(w) => unsafe { (*ctx).hot[usize::from(w.stack)] = Hot::of(&w) },
                None if kind != KIND_ATOMIC && in_ctx => {
                    remember(ctx);
                    if rt.ctx_seen.len() < CTX_SEEN_MAX {
                        rt.ctx_seen.push(seen);
                    }
                }
                None => {}
            }
            host as u64
        }
        Err(f) => {
            fault(ctx, f.0, idx);
            0
        }
    }
}

/// A loop guard's probe: caches the window of the region holding `size` (low byte of `info`)
/// bytes at `addr`, read or written (the kind in `info`), when there is one. Never faults: the
/// guard only asks, and the checked loop reports whatever is wrong.
pub(super) unsafe extern "C" fn jit_probe(ctx: *mut JitCtx, addr: u64, info: u64) -> u64 {
    let size = (info & 0xff) as usize;
    let access = if (info >> INFO_KIND_SHIFT) & 0xf == KIND_READ { Access::Read } else { Access::Write };
    let rt = unsafe { rt(ctx) };
    if let Ok((_, Some(w))) = rt.mem.resolve(addr, size, access) {
        unsafe { (*ctx).hot[usize::from(w.stack)] = Hot::of(&w) };
    }
    0
}

/// A helper call: `id` with `r1`–`r5` from `ctx.regs`; returns the new r0. A fault or a taken
/// tail call raises the flag. Helpers may move buffers, so the windows are dropped.
pub(super) unsafe extern "C" fn jit_helper(ctx: *mut JitCtx, id: u64, idx: u64) -> u64 {
    let id = id as i64;
    let c = unsafe { &mut *ctx };
    c.hot = [Hot::default(); 2];
    let args = [c.regs[1], c.regs[2], c.regs[3], c.regs[4], c.regs[5]];
    let rt = unsafe { rt(ctx) };
    if id == BPF_FUNC_TAIL_CALL as i64 {
        return match tail_call_target(rt.mem, args, rt.tail_calls, rt.programs.len()) {
            Some(p) if c.depth == rt.base_depth => {
                rt.tail_calls += 1;
                rt.tail = Some(p);
                c.flag = FLAG_TAIL;
                0
            }
            Some(p) => {
                rt.tail_calls += 1;
                unsafe { tail_call_in_frame(ctx, p) }
            }
            None => TAIL_CALL_FAILED,
        };
    }
    if crate::runtime::callback::calls_back(id) {
        return unsafe { super::callback::call(ctx, id, args, idx as usize) };
    }
    // The clock advances 1 µs per helper call, as in every engine over the runtime.
    *rt.clock += 1000;
    let mut env = MemEnv { mem: rt.mem, options: rt.options, clock: *rt.clock, rng: rt.rng, trace: &mut rt.trace };
    let result = env.call(id, args);
    c.refresh(rt.mem);
    match result {
        Ok(v) => v,
        Err(kind) => {
            fault(ctx, kind, idx as usize);
            0
        }
    }
}

/// Runs program `first`, then the tail calls it makes from its first frame, starting from the
/// registers in `ctx.regs`. Returns the entry's status: 0 (exited, r0 in `ctx.regs[0]`) or 1
/// (fault in `Rt::error`, `Rt::current` naming the program).
///
/// # Safety
/// `ctx` is the live context of a run, whose `rt` points to that run's [`Rt`].
pub(super) unsafe fn run_chain(ctx: *mut JitCtx, first: usize) -> u64 {
    let mut current = first;
    loop {
        let run = unsafe { rt(ctx) };
        run.current = current;
        let code = &run.programs[current].1;
        // SAFETY: `site_base[current]` starts this program's `code.sites` entries in `sites`;
        // frame `depth` exists (calls stop at `MAX_CALL_FRAMES`). The windows need no reset:
        // a tail call is a helper call, which drops them.
        unsafe {
            (*ctx).sites = run.sites.add(run.site_base[current]);
            (*ctx).site_info = code.site_info.as_ptr();
            (*ctx).fp_host = run.mem.stack.as_ptr().add(((*ctx).depth as usize + 1) * STACK_SIZE) as u64;
        }
        // SAFETY: `entry` is the prologue `compile` emitted, an `extern "C" fn(*mut JitCtx)
        // -> u64` that only touches memory through `ctx` and what `jit_resolve` hands out.
        let entry: extern "C" fn(*mut JitCtx) -> u64 = unsafe { std::mem::transmute(code.buf.ptr(code.entry.0)) };
        let status = entry(ctx);
        match unsafe { rt(ctx) }.tail.take() {
            Some(next) if status == FLAG_TAIL => {
                // The target starts with this frame's registers and r0 = 0 (the helper's result).
                unsafe { (*ctx).regs[0] = 0 };
                current = next;
            }
            _ => return status,
        }
    }
}

/// A tail call to program `p` from a subprogram: the target replaces the subprogram's frame, so
/// it runs here (nested, at this depth) and the subprogram then returns its r0 to its caller.
///
/// # Safety
/// As for [`run_chain`]; called from [`jit_helper`] with r1–r5 and r6–r10 in `ctx.regs`.
unsafe fn tail_call_in_frame(ctx: *mut JitCtx, p: usize) -> u64 {
    // The nested entry reuses the fields that locate the native stack and the frame: keep ours.
    let (saved_rsp, tmp_rsp, depth, sites, site_info) =
        unsafe { ((*ctx).saved_rsp, (*ctx).tmp_rsp, (*ctx).depth, (*ctx).sites, (*ctx).site_info) };
    let run = unsafe { rt(ctx) };
    let (current, base_depth) = (run.current, run.base_depth);
    run.base_depth = depth;
    unsafe { (*ctx).regs[0] = 0 };
    let status = unsafe { run_chain(ctx, p) };
    let c = unsafe { &mut *ctx };
    (c.saved_rsp, c.tmp_rsp, c.sites, c.site_info) = (saved_rsp, tmp_rsp, sites, site_info);
    c.hot = [Hot::default(); 2];
    if status != 0 {
        // A fault: `Rt::current` names the program it happened in.
        c.flag = FLAG_FAULT;
        return 0;
    }
    if c.flag == FLAG_EXIT0 {
        return 0;
    }
    let run = unsafe { rt(ctx) };
    run.current = current;
    run.base_depth = base_depth;
    c.flag = FLAG_RETURN;
    c.regs[0]
}

/// `BPF_LD_ABS`/`BPF_LD_IND`: `size` (low byte of `info`) bytes at packet offset `off`, big
/// endian; out of bounds ends the program with 0, as in the kernel.
pub(super) unsafe extern "C" fn jit_ld_pkt(ctx: *mut JitCtx, off: u64, info: u64) -> u64 {
    let rt = unsafe { rt(ctx) };
    match load_packet(rt.mem, off as u32 as i32, (info & 0xff) as u8) {
        Some(v) => v,
        None => {
            unsafe { (*ctx).flag = FLAG_EXIT0 };
            0
        }
    }
}

/// Raises error `code` (see `RAISE_*`) at instruction `idx`.
pub(super) unsafe extern "C" fn jit_raise(ctx: *mut JitCtx, code: u64, idx: u64) -> u64 {
    let rt = unsafe { rt(ctx) };
    let kind = match code {
        RAISE_BUDGET => ErrorKind::BudgetExhausted { budget: rt.options.budget },
        RAISE_DEPTH => ErrorKind::CallDepth { max: MAX_CALL_FRAMES },
        RAISE_FELL_OFF => ErrorKind::FellOffEnd,
        // The running program's compile-time errors (`Rt::current` names it).
        c => {
            rt.programs[rt.current].1.statics.get((c - RAISE_STATIC) as usize).cloned().unwrap_or(ErrorKind::FellOffEnd)
        }
    };
    fault(ctx, kind, idx as usize);
    0
}
