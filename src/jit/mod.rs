//! The x86-64 JIT: compiles a [`Program`] to native code with `dynasm` and runs it with the
//! interpreter's semantics and memory model, as a third [`Engine`](crate::engine::Engine).
//!
//! - [`code_pages`]: the read+execute pages code lives in.
//! - [`compile`]: the code generator (register mapping, checked accesses, calls, budget).
//! - [`ctx`]: the block native code works on and the Rust callouts (slow path of accesses,
//!   helpers through the shared helper table, legacy packet loads, errors).
//! - [`listing`]: each instruction next to the x86-64 it became (`ebpf-lab jit`).
//! - [`loops`]: counted loops whose accesses a guard at the entry checks once, so an
//!   unchecked copy of the body can run.
//! - [`callback`]: `bpf_loop` and `bpf_for_each_map_elem`, whose callbacks Rust calls back into
//!   native code for.
//!
//! Programs see the same virtual addresses as in the interpreter (the regions of
//! [`crate::runtime::memory`]), every access is checked against the same regions, and a fault
//! names the same instruction. A counted loop ([`loops`]) may check its accesses and the
//! budget once at its entry and then run without checks: only when that proves no check in it
//! could fail, so the outcome is the same. The instruction count differs: native code charges the budget
//! only at taken back-edges (the loop's span, `jump index - target index + 1`) and at
//! bpf-to-bpf calls (1), so [`JitVm::charged`] is not an instruction count, and
//! `RunOutcome::insns_executed` stays 0. `RunOptions::trace` is not supported (no per-step log).
//! A tail call from a subprogram runs its target nested, in place of the subprogram's frame
//! (`ctx::run_chain`), so the target's `exit` returns to the subprogram's caller.
//! Code pages are writable only while being copied in, then read+execute, and are unmapped
//! when the engine is dropped.
//!
//! [`JitChecks`] selects whether accesses the verifier proved in bounds skip their check.

pub mod callback;
pub mod code_pages;
pub mod compile;
pub mod ctx;
pub mod listing;
pub mod loops;

use crate::program::{ProgType, Program};
use crate::runtime::error::{ErrorKind, RuntimeError};
use crate::runtime::memory::{frame_pointer, Backing, Memory, MAX_CALL_FRAMES};
use crate::runtime::run::{Input, RunOptions, RunOutcome};
use crate::runtime::Map;
use compile::Compiled;
use ctx::{run_chain, Hot, JitCtx, Rt};

/// Which memory accesses native code checks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum JitChecks {
    /// Every load, store and atomic (the default: the JIT's safety then rests on its own
    /// checks, not on the verifier being right, and programs the verifier rejects still run).
    #[default]
    All,
    /// Only what ebpf-lab's verifier did not prove in bounds: accesses to the function's own
    /// stack frame and to the packet inside the range checked against `data_end` run
    /// unchecked. A program the verifier rejects, and `mem` and `syscall` programs (whose
    /// buffer length the verifier fixes in advance, while each run brings its own), keep
    /// every check.
    Unproven,
}

impl JitChecks {
    /// The proofs `prog` may skip checks for under this mode (per slot; `None`: check all).
    pub fn proofs(self, prog: &Program) -> Option<Vec<crate::verifier::AccessProof>> {
        if self == JitChecks::All || matches!(prog.prog_type, ProgType::Mem | ProgType::Syscall) {
            return None;
        }
        let options = crate::verifier::VerifyOptions { record_proofs: true, ..Default::default() };
        crate::verifier::verify(prog, &options).proofs
    }
}

/// The JIT engine: compiled programs (the main one at 0, then tail-call targets), their maps
/// and memory.
pub struct JitVm {
    programs: Vec<(Program, Compiled)>,
    mem: Memory,
    options: RunOptions,
    clock: u64,
    rng: u64,
    /// What the last successful run charged to the budget.
    charged: u64,
    /// The `bpf_trace_printk` lines of the run in progress (empty between runs: the outcome
    /// takes them).
    trace_lines: Vec<String>,
    /// Context accesses validated in earlier runs (see `Rt::ctx_seen`).
    ctx_seen: Vec<(u64, u64)>,
    /// Every program's site cache, one after the other (see `JitCtx::sites`).
    sites: Vec<u64>,
    /// Where each program's site cache starts in `sites`.
    site_base: Vec<usize>,
    /// The context length the site caches were filled for.
    sites_ctx_len: usize,
    /// Which accesses are checked.
    checks: JitChecks,
    /// Stack frames that unchecked stores may dirty (see `Compiled::unchecked_stack_writes`).
    dirty_frames: usize,
    /// The first data window's region and its window, for the region table of generation
    /// `.0` (see `Memory::table_gen`): a run on the same table only takes the host address.
    first: (u64, Option<(Backing, usize, u64, Hot)>),
    /// The block native code works on, kept between runs: a run writes only the fields it
    /// starts from (see [`JitVm::run_to_exit`]), the rest are set as native code goes.
    ctx: JitCtx,
}

impl JitVm {
    /// Compiles `prog` with default options and creates its maps.
    pub fn new(prog: &Program) -> Result<JitVm, RuntimeError> {
        JitVm::with_options(prog, RunOptions::default())
    }

    /// Like [`JitVm::new`], with options.
    pub fn with_options(prog: &Program, options: RunOptions) -> Result<JitVm, RuntimeError> {
        JitVm::with_checks(prog, options, JitChecks::All)
    }

    /// Like [`JitVm::with_options`], checking the accesses `checks` says.
    pub fn with_checks(prog: &Program, options: RunOptions, checks: JitChecks) -> Result<JitVm, RuntimeError> {
        let code = compile::compile_with(prog, checks.proofs(prog).as_deref())?;
        let mem = Memory::for_program(prog, &options)?;
        let clock = options.clock_start;
        let mut vm = JitVm {
            sites: vec![0; code.sites],
            site_base: vec![0],
            sites_ctx_len: 0,
            checks,
            dirty_frames: 0,
            first: (u64::MAX, None),
            ctx: JitCtx {
                hot: [Hot::default(); 2],
                room: 0,
                depth: 0,
                saved_rsp: 0,
                tmp_rsp: 0,
                tmp: 0,
                flag: 0,
                regs: [0; 11],
                rt: std::ptr::null_mut(),
                sites: std::ptr::null_mut(),
                site_info: std::ptr::null(),
                ctx_host: 0,
                ctx_len: 0,
                fp_host: 0,
                pkt_delta: 0,
            },
            programs: vec![(prog.clone(), code)],
            mem,
            rng: options.seed,
            options,
            clock,
            charged: 0,
            trace_lines: Vec::new(),
            ctx_seen: Vec::new(),
        };
        vm.update_dirty_frames();
        Ok(vm)
    }

    /// Recomputes `dirty_frames` from the compiled programs.
    fn update_dirty_frames(&mut self) {
        let written = self.programs.iter().any(|(_, c)| c.unchecked_stack_writes);
        let calls = self.programs.iter().any(|(_, c)| c.calls);
        self.dirty_frames = match (written, calls) {
            (false, _) => 0,
            (true, false) => 1,
            (true, true) => MAX_CALL_FRAMES,
        };
    }

    /// Sets the data window a run starts with (`ctx.hot[0]`): the first plain region after the
    /// stacks (the packet or the input buffer), set here rather than by a callout from native
    /// code. On the same table as last run, usually only its host address is written.
    #[inline]
    fn set_first_window(&mut self) {
        let gen = self.mem.table_gen();
        if self.first.0 != gen {
            let regions = &self.mem.regions;
            let i = (MAX_CALL_FRAMES..regions.len()).find(|&i| !regions[i].checked && regions[i].len > 0);
            let found = i
                .map(|i| (i, regions[i].backing, regions[i].start, regions[i].len))
                .and_then(|(i, b, start, len)| Some((b, start, len, Hot::of(&self.mem.window(i)?))));
            self.first = (gen, found);
        }
        let w = &mut self.ctx.hot[0];
        // The same region as last run: only its buffer may have moved.
        match self.first.1 {
            Some((b, start, len, ref hot)) => match self.mem.backing_host(b, start, len) {
                Some(host) => {
                    // The limits follow from the length and writability, which the first
                    // read and write limits give.
                    if (w.base, w.lim[0], w.lim[4]) != (hot.base, hot.lim[0], hot.lim[4]) {
                        *w = *hot;
                    }
                    w.host = host as u64;
                }
                None => *w = Hot::default(),
            },
            None => *w = Hot::default(),
        }
    }

    /// Which accesses this engine's code checks.
    pub fn checks(&self) -> JitChecks {
        self.checks
    }

    /// What the last successful run charged to the budget: the spans of the back-edges it took
    /// and 1 per bpf-to-bpf call (not an instruction count: `RunOutcome::insns_executed` stays 0).
    pub fn charged(&self) -> u64 {
        self.charged
    }

    /// The main program.
    pub fn program(&self) -> &Program {
        &self.programs[0].0
    }

    /// The main program's native code.
    pub fn compiled(&self) -> &Compiled {
        &self.programs[0].1
    }

    /// The run options, to change before the next run.
    pub fn options_mut(&mut self) -> &mut RunOptions {
        &mut self.options
    }

    /// Map `name`.
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.mem.maps.get(self.program().map_index(name)?)
    }

    /// Map `name`, to fill before a run.
    pub fn map_mut(&mut self, name: &str) -> Option<&mut Map> {
        let i = self.program().map_index(name)?;
        self.mem.maps.get_mut(i)
    }

    /// Adds a tail-call target (sharing the main program's maps) and returns its index.
    pub fn add_program(&mut self, prog: &Program) -> Result<u32, RuntimeError> {
        let mut prog = prog.clone();
        if prog.maps.is_empty() {
            prog.maps = self.program().maps.clone();
        }
        let code = compile::compile_with(&prog, self.checks.proofs(&prog).as_deref())?;
        self.site_base.push(self.sites.len());
        self.sites.resize(self.sites.len() + code.sites, 0);
        self.programs.push((prog, code));
        self.update_dirty_frames();
        Ok(self.programs.len() as u32 - 1)
    }

    /// Runs the program on `input`.
    #[inline]
    pub fn run(&mut self, input: &Input) -> Result<RunOutcome, RuntimeError> {
        let r0 = self.run_to_exit(input)?;
        Ok(self.finish(r0))
    }

    /// Runs the program on `input` and reports only r0: [`JitVm::run`] without its outcome
    /// (the packet and context after the run, the trace), so nothing is lent out or built.
    /// Maps keep what the run did.
    #[inline]
    pub fn run_r0(&mut self, input: &Input) -> Result<u64, RuntimeError> {
        let r0 = self.run_to_exit(input)?;
        self.trace_lines.clear();
        Ok(r0)
    }

    /// The outcome of a run that reached its `exit` with `r0`. The outcome is the last thing
    /// built, so it lands in the caller's slot (see [`Memory::finish_run`]).
    #[inline(always)]
    pub(crate) fn finish(&mut self, r0: u64) -> RunOutcome {
        let pt = self.programs[0].0.prog_type;
        self.mem.finish_run(pt, r0, 0, &mut self.trace_lines, &mut Vec::new())
    }

    /// [`JitVm::run`] up to the program's `exit`: r0, with the `bpf_trace_printk` lines in
    /// `trace_lines`, for [`JitVm::finish`].
    #[inline(always)]
    pub(crate) fn run_to_exit(&mut self, input: &Input) -> Result<u64, RuntimeError> {
        let r1 = self.mem.setup(&self.programs[0].0, input)?;
        if self.mem.ctx.len() != self.sites_ctx_len {
            // What the layout allows may change with the context's length.
            self.sites.fill(0);
            self.sites_ctx_len = self.mem.ctx.len();
        }
        // Stores that skip the check do not tell `Memory`: the next setup zeroes these frames.
        self.mem.stack_dirty = self.mem.stack_dirty.max(self.dirty_frames);
        self.set_first_window();
        let mut regs = [0u64; 11];
        regs[1] = r1;
        regs[10] = frame_pointer(0);
        if let Input::Mem(data) = input {
            regs[2] = data.len() as u64;
        }
        // (The run's borrows of `self` end with this block.)
        let r0 = {
            let ctx = &mut self.ctx;
            let mut rt = Rt {
                mem: &mut self.mem,
                options: &self.options,
                clock: &mut self.clock,
                rng: &mut self.rng,
                trace: std::mem::take(&mut self.trace_lines),
                error: None,
                tail: None,
                tail_calls: 0,
                programs: &self.programs,
                current: 0,
                base_depth: 0,
                ctx_seen: &mut self.ctx_seen,
                sites: self.sites.as_mut_ptr(),
                site_base: &self.site_base,
            };
            // The rest (the native stack's marks, scratch, the site cache, the frame) native code
            // and `run_chain` set before they read it; a zero limit never matches, so the stack
            // window is dropped with its limits alone.
            ctx.hot[1].lim = [0; 8];
            ctx.room = self.options.budget;
            ctx.depth = 0;
            ctx.flag = 0;
            ctx.regs = regs;
            ctx.rt = (&mut rt as *mut Rt<'_>).cast();
            ctx.refresh(rt.mem);
            // SAFETY: `ctx.rt` points to `rt`, which outlives the run.
            if unsafe { run_chain(ctx, 0) } != 0 {
                return Err(fault_of(&mut rt));
            }
            self.charged = self.options.budget - ctx.room;
            // (Moved out, not taken: what is left of `rt` then drops inline.)
            self.trace_lines = rt.trace;
            ctx.regs[0]
        };
        Ok(r0)
    }
}

/// The error a run that faulted ends with (out of line: the run's path stays short).
#[cold]
#[inline(never)]
fn fault_of(rt: &mut Rt<'_>) -> RuntimeError {
    let (kind, idx) = rt.error.take().unwrap_or((ErrorKind::FellOffEnd, 0));
    RuntimeError::at_insn(&rt.programs[rt.current].0, idx, kind)
}
