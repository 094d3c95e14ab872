//! The interpreter: runs a [`Program`] on a virtual machine with kernel semantics.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use ebpf_lab::interp::{Input, Vm};
//! let prog = ebpf_lab::program::Program::from_bytes(&[0xb7, 0, 0, 0, 42, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])?;
//! let mut vm = Vm::new(&prog)?; // pre-decodes; creates maps
//! let out = vm.run(&Input::mem(vec![1, 2, 3]))?;
//! assert_eq!(out.r0, 42);
//! # Ok(()) }
//! ```
//!
//! Structure (after wasmi's executor and rbpf's flat modules): [`decoded`] turns the program
//! into a compact array for dispatch once; the run loop here matches on it; the families with
//! more than a line of semantics live in [`alu`], [`branch`], [`mem`], [`atomic`] and [`call`];
//! [`memory`] is the virtual address space every access is checked against; [`ctx`] builds the
//! per-program-type context; [`error`] names what went wrong and where.

pub mod alu;
pub mod atomic;
pub mod branch;
pub mod call;
pub mod decoded;
pub mod mem;
pub mod steps;

// The engine-neutral types live in the runtime (engines never import each other); these
// re-exports keep `interp::Input`, `interp::memory` and friends working.
pub use crate::runtime::ctx_build as ctx;
pub use crate::runtime::ctx_build::{SkbFields, ETH_HLEN};
pub use crate::runtime::error::{self, Access, ErrorKind, RuntimeError};
pub use crate::runtime::memory;
pub use crate::runtime::run::{Input, RunOptions, RunOutcome, DEFAULT_BUDGET};

use crate::asm::disasm::FormatCtx;
use crate::asm::kernel_log;
use crate::program::{ProgType, Program};
pub use crate::runtime::Map;
use decoded::{Decoded, Op};
use memory::{Fault, Memory, MAX_CALL_FRAMES};

/// A saved caller frame of a bpf-to-bpf call.
#[derive(Clone, Copy, Debug)]
struct Frame {
    /// Op index to return to, in program `prog`.
    ret: usize,
    /// The program (index in `Vm::programs`) that made the call: after a tail call from a
    /// subprogram the target runs in the subprogram's frame, and its `exit` returns here.
    prog: usize,
    saved: [u64; 4],
    /// The frame of a callback called by `bpf_loop` or `bpf_for_each_map_elem`: its `exit`
    /// goes back to the helper (the innermost of `State::callbacks`), which calls it again or
    /// returns to `ret`.
    callback: bool,
}

/// The register file of the run loop, kept on the heap (see `Vm::exec`).
struct Cpu {
    regs: [u64; 16],
}

/// Register and control state of a run.
pub(crate) struct State {
    pub(crate) regs: [u64; 16],
    frames: Vec<Frame>,
    /// Instructions executed (exact once the run ends).
    executed: u64,
    pub(crate) trace_lines: Vec<String>,
    exec_trace: Vec<String>,
    /// Set by `bpf_tail_call` when it succeeds: the program to continue in.
    pub(crate) tail_call: Option<usize>,
    /// Tail calls taken so far (at most `MAX_TAIL_CALL_CNT`).
    pub(crate) tail_calls: u32,
    /// The callback-calling helpers in progress, innermost last.
    pub(crate) callbacks: Vec<call::Callbacks>,
    /// Set by a callback-calling helper: the op its callback starts at (its frame is pushed).
    pub(crate) enter: Option<usize>,
    /// With [`Vm::run_recorded`]: the machine after each executed instruction.
    steps: Option<Vec<steps::Step>>,
}

impl State {
    /// The machine at rest (all registers 0), recording steps when `record` is set.
    fn new(record: bool) -> State {
        State {
            regs: [0; 16],
            frames: Vec::new(),
            executed: 0,
            trace_lines: Vec::new(),
            exec_trace: Vec::new(),
            tail_call: None,
            tail_calls: 0,
            callbacks: Vec::new(),
            enter: None,
            steps: record.then(Vec::new),
        }
    }

    /// Back to [`State::new`]`(false)`, keeping the vectors' room.
    #[cold]
    fn reset(&mut self) {
        self.regs = [0; 16];
        self.frames.clear();
        self.executed = 0;
        self.trace_lines.clear();
        self.exec_trace.clear();
        self.tail_call = None;
        self.tail_calls = 0;
        self.callbacks.clear();
        self.enter = None;
        self.steps = None;
    }
}

/// The interpreter: a decoded program, its maps and its memory.
pub struct Vm {
    /// The program running now (the main one, or a tail-call target).
    prog: Program,
    code: Decoded,
    /// Every loaded program: the main one at 0, then tail-call targets.
    programs: Vec<(Program, Decoded)>,
    /// Index in `programs` of the running program.
    current: usize,
    pub(crate) mem: Memory,
    options: RunOptions,
    /// Time in nanoseconds returned by `bpf_ktime_get_ns`; advances on each call.
    pub(crate) clock: u64,
    pub(crate) rng: u64,
    /// Every loaded program's ops, fused and one per instruction (index = program index), kept
    /// so a run collects nothing; the run loop takes the vector it needs for the run.
    fast_code: Vec<std::rc::Rc<[Op]>>,
    traced_code: Vec<std::rc::Rc<[Op]>>,
    /// The run loop's register file, kept between runs so a run allocates none.
    cpu: Option<Box<Cpu>>,
    /// [`Vm::run`]'s state, likewise.
    spare_state: Option<Box<State>>,
}

impl Vm {
    /// Decodes `prog` and creates its maps.
    pub fn new(prog: &Program) -> Result<Vm, RuntimeError> {
        Vm::with_options(prog, RunOptions::default())
    }

    /// Like [`Vm::new`], with options.
    pub fn with_options(prog: &Program, options: RunOptions) -> Result<Vm, RuntimeError> {
        let code = decoded::decode(prog)?;
        let mem = Memory::for_program(prog, &options)?;
        let clock = options.clock_start;
        Ok(Vm {
            prog: prog.clone(),
            fast_code: vec![std::rc::Rc::clone(&code.fast)],
            traced_code: vec![std::rc::Rc::clone(&code.ops)],
            code: code.clone(),
            programs: vec![(prog.clone(), code)],
            current: 0,
            mem,
            rng: options.seed,
            options,
            clock,
            cpu: None,
            spare_state: None,
        })
    }

    /// The program being run.
    pub fn program(&self) -> &Program {
        &self.prog
    }

    /// The run options.
    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// The run options, to change before the next run.
    pub fn options_mut(&mut self) -> &mut RunOptions {
        &mut self.options
    }

    /// Map `name` (inspect it with [`Map::entries`], [`Map::user_lookup`]...).
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.mem.maps.get(self.prog.map_index(name)?)
    }

    /// Map `name`, to fill before a run (e.g. a prog array for tail calls).
    pub fn map_mut(&mut self, name: &str) -> Option<&mut Map> {
        let i = self.prog.map_index(name)?;
        self.mem.maps.get_mut(i)
    }

    /// Adds a tail-call target and returns its program index (the main program is 0); store
    /// the index in a `prog_array` map to make it reachable with `bpf_tail_call`. The program
    /// refers to maps by the same indices as the main program (they share the maps).
    pub fn add_program(&mut self, prog: &Program) -> Result<u32, RuntimeError> {
        let mut prog = prog.clone();
        if prog.maps.is_empty() {
            prog.maps = self.prog.maps.clone();
        }
        let code = decoded::decode(&prog)?;
        self.fast_code.push(std::rc::Rc::clone(&code.fast));
        self.traced_code.push(std::rc::Rc::clone(&code.ops));
        self.programs.push((prog, code));
        Ok(self.programs.len() as u32 - 1)
    }

    /// Runs the program on `input`.
    #[inline]
    pub fn run(&mut self, input: &Input) -> Result<RunOutcome, RuntimeError> {
        let (r0, st) = self.run_to_exit(input)?;
        Ok(self.finish(r0, st))
    }

    /// Runs the program on `input` and reports only r0: [`Vm::run`] without its outcome (the
    /// packet and context after the run, the trace), so nothing is lent out or built. Maps keep
    /// what the run did.
    #[inline]
    pub fn run_r0(&mut self, input: &Input) -> Result<u64, RuntimeError> {
        let (r0, mut st) = self.run_to_exit(input)?;
        // What `finish` hands to the outcome is dropped here instead (usually nothing).
        st.trace_lines.clear();
        st.exec_trace.clear();
        self.park(st);
        Ok(r0)
    }

    /// [`Vm::run`] up to the program's `exit`: r0 and the state, for [`Vm::finish`]. The state
    /// is kept by the VM between runs, at rest, and lent out, never moved: a run builds,
    /// copies and drops no machine.
    #[inline(always)]
    pub(crate) fn run_to_exit(&mut self, input: &Input) -> Result<(u64, Box<State>), RuntimeError> {
        let mut st = self.spare_state.take().unwrap_or_else(|| Box::new(State::new(false)));
        let r0 = self.start(&mut st, input).and_then(|()| {
            if self.options.trace {
                self.exec::<true>(&mut st)
            } else {
                self.exec::<false>(&mut st)
            }
        });
        match r0 {
            Ok(r0) => Ok((r0, st)),
            Err(e) => {
                // A fault can leave anything behind (frames, callbacks, trace lines).
                st.reset();
                self.spare_state = Some(st);
                Err(e)
            }
        }
    }

    /// The outcome of a run that reached its `exit` with `r0`; puts the state back at rest.
    /// The outcome is the last thing built, so it lands in the caller's slot (see
    /// [`Memory::finish_run`]).
    #[inline(always)]
    pub(crate) fn finish(&mut self, r0: u64, mut st: Box<State>) -> RunOutcome {
        let insns = st.executed;
        let mut trace_lines = std::mem::take(&mut st.trace_lines);
        let mut exec_trace = std::mem::take(&mut st.exec_trace);
        self.park(st);
        self.mem.finish_run(self.prog.prog_type, r0, insns, &mut trace_lines, &mut exec_trace)
    }

    /// Puts the state of a run that reached its `exit` back at rest. At its `exit` a run has
    /// unwound its frames, taken its tail call and ended its callbacks: only the tail-call count
    /// is left to reset (the run loop reads no register but those `Vm::start` sets).
    #[inline(always)]
    fn park(&mut self, mut st: Box<State>) {
        st.tail_calls = 0;
        self.spare_state = Some(st);
    }

    /// Runs with `record`: traced, keeping the machine after each instruction (see [`steps`]).
    fn run_inner(
        &mut self,
        input: &Input,
        record: bool,
    ) -> (Result<RunOutcome, RuntimeError>, Option<steps::Recorded>) {
        let mut st = State::new(record);
        if let Err(e) = self.start(&mut st, input) {
            return (Err(e), None);
        }
        let start = st.regs;
        let traced = self.options.trace || st.steps.is_some();
        let r0 = if traced { self.exec::<true>(&mut st) } else { self.exec::<false>(&mut st) };
        let recorded = st.steps.take().map(|steps| steps::Recorded { start, steps });
        let pt = self.prog.prog_type;
        (r0.map(|r0| self.mem.finish_run(pt, r0, st.executed, &mut st.trace_lines, &mut st.exec_trace)), recorded)
    }

    /// Puts the machine before the first instruction into `st`.
    #[inline(always)]
    fn start(&mut self, st: &mut State, input: &Input) -> Result<(), RuntimeError> {
        if self.current != 0 {
            self.switch_program(0);
        }
        let r1 = self.setup(input)?;
        // The run loop starts from these three registers, all others 0 (see `Vm::exec`).
        st.regs[1] = r1;
        st.regs[2] = if let Input::Mem(data) = input { data.len() as u64 } else { 0 };
        st.regs[10] = memory::frame_pointer(0);
        Ok(())
    }

    /// Builds memory for `input` and returns the initial `r1`.
    #[inline(always)]
    fn setup(&mut self, input: &Input) -> Result<u64, RuntimeError> {
        self.mem.setup(&self.prog, input)
    }

    /// Makes `programs[index]` the running program.
    fn switch_program(&mut self, index: usize) {
        if let Some((p, c)) = self.programs.get(index) {
            self.prog = p.clone();
            self.code = c.clone();
            self.current = index;
        }
    }

    /// Number of loaded programs (main + tail-call targets).
    pub(crate) fn program_count(&self) -> usize {
        self.programs.len()
    }

    /// A runtime error at decoded index `idx`. Out of line and cold, so the run loop keeps
    /// only a call on its error paths.
    #[cold]
    #[inline(never)]
    fn error_at(&self, idx: usize, kind: ErrorKind) -> RuntimeError {
        let idx = idx.min(self.code.pcs.len() - 1);
        let pc = self.code.pcs[idx];
        let index = (idx < self.prog.insns.len()).then_some(idx);
        // A call the ELF reader poisoned for an unresolvable CO-RE relocation: name what is missing.
        let kind = match (&kind, index) {
            (ErrorKind::UnknownHelper { id }, Some(i)) if *id == crate::elf::core::POISON_HELPER as i64 => {
                match self.prog.core_poisoned.iter().find(|(at, _)| *at == i) {
                    Some((_, what)) => ErrorKind::Invalid(format!(
                        "{what}; the loader poisoned this instruction, as libbpf does, and the program reached it"
                    )),
                    None => kind,
                }
            }
            _ => kind,
        };
        RuntimeError { kind, pc: Some(pc), index, location: index.and_then(|i| self.prog.location(i)) }
    }

    /// The ops of every program the run loop executes: one per instruction when tracing (each
    /// gets its line), with superinstructions otherwise.
    fn code_for<const TRACE: bool>(&mut self) -> &mut Vec<std::rc::Rc<[Op]>> {
        if TRACE {
            &mut self.traced_code
        } else {
            &mut self.fast_code
        }
    }

    /// The run loop. `TRACE` selects, at compile time, whether each step is logged, so the
    /// untraced loop pays nothing for the feature. Never inlined, and everything rare it calls is
    /// out of line and cold, so the loop's code layout does not move with unrelated changes.
    #[inline(never)]
    fn exec<const TRACE: bool>(&mut self, st: &mut State) -> Result<u64, RuntimeError> {
        // The register file lives on the heap, not in this frame: AMD Zen
        // predicts that a load from an `rsp`-relative slot reads what an earlier store to that
        // slot wrote ("memory renaming"); with the slot chosen by a register number, or stores
        // spread over several slots, that prediction kept failing and flushed the pipeline
        // about once per loop iteration (a 3-op loop took 13 ns instead of 4).
        // (Kept by the VM between runs: a run allocates nothing.)
        let mut cpu = self.cpu.take().unwrap_or_else(|| Box::new(Cpu { regs: [0; 16] }));
        // A run starts with r1, r2 and r10 set (`Vm::start`), everything else 0: cheaper than
        // copying the whole file, and the state need not be zeroed between runs.
        cpu.regs = [0; 16];
        cpu.regs[1] = st.regs[1];
        cpu.regs[2] = st.regs[2];
        cpu.regs[10] = st.regs[10];
        // The budget counter, by contrast, is a plain local: it lives in a register or in one
        // fixed `rsp`-relative slot, which that prediction handles well. On the heap (as it
        // once was, next to the registers) every taken jump waited for a store-to-load forward
        // of it: the counting loop took 4.4 ns per iteration instead of 3.1.
        let mut room: u64;
        // Every loaded program's ops, held apart from `self` so the loop can index a plain slice
        // while helpers borrow the VM; a tail call just switches slices.
        // (Taken from the VM for the run and given back at its end.)
        let all = std::mem::take(self.code_for::<TRACE>());
        // The fetch below skips the index check: every program here was made by
        // `decoded::decode`, which refuses ops that break `decoded::pc_stays_in`.
        // (A missing program, which `switch_program` never selects, would run a lone `FellOff`:
        // the fetch must never see an empty slice.)
        let code_of = |current: usize| all.get(current).map_or(&[Op::FellOff][..], |c| &c[..]);
        let mut code: &[Op] = code_of(self.current);
        // The loop walks a pointer over the ops: a fetch is one load, with no index to scale or
        // check (see the SAFETY note at the fetch). The op index is recomputed from it only
        // where needed (faults, jumps, traces). The pointer is moved with `wrapping_add`, and
        // only ever dereferenced at the fetch.
        let mut ip: *const Op = code.as_ptr();
        const OP: u64 = std::mem::size_of::<Op>() as u64;
        // The index of the op `ip` points to.
        macro_rules! pc {
            () => {
                ((ip as usize).wrapping_sub(code.as_ptr() as usize) / OP as usize)
            };
        }
        // The index of the op being run (the second one of a superinstruction once it has
        // stepped over it).
        macro_rules! here {
            () => {
                pc!().wrapping_sub(1)
            };
        }
        macro_rules! r {
            ($i:expr) => {
                cpu.regs[($i & 15) as usize]
            };
        }
        macro_rules! mem_try {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(Fault(kind)) => break Err(self.error_at(here!(), kind)),
                }
            };
        }
        macro_rules! addr {
            ($reg:expr, $off:expr) => {
                r!($reg).wrapping_add($off as i64 as u64)
            };
        }
        // The budget is charged per straight-line run: when control transfers (taken jump, call,
        // return, exit) the run is added to the count. The count stays exact and the loop pays
        // nothing on fall-through instructions; a runaway loop is caught at its jump.
        // One variable does it, counted in bytes of ops (`OP` per op) and held as what is left:
        // `room - ip` is `limit - 16 * executed` (wrapping), `limit` being 16 times the budget,
        // so the run is over budget exactly when that goes negative; after `charge!` `room`
        // *is* it until `jump!` rebases it. One variable and no stored limit to compare with
        // keep the taken-jump path short. (`limit` stops at `i64::MAX`: a budget beyond some
        // 5 * 10^17 instructions is unlimited in practice.)
        let budget = self.options.budget;
        let limit = budget.saturating_mul(OP).min(i64::MAX as u64);
        room = limit.wrapping_add(ip as u64);
        macro_rules! charge {
            () => {
                room = room.wrapping_sub(ip as u64);
                if (room as i64) < 0 {
                    break Err(self.error_at(here!(), ErrorKind::BudgetExhausted { budget }));
                }
            };
        }
        macro_rules! jump {
            ($t:expr) => {{
                // `charge!` then rebase, with one store.
                let left = room.wrapping_sub(ip as u64);
                if (left as i64) < 0 {
                    break Err(self.error_at(here!(), ErrorKind::BudgetExhausted { budget }));
                }
                ip = code.as_ptr().wrapping_add($t as usize);
                room = left.wrapping_add(ip as u64);
            }};
        }
        // A helper call by number; a successful tail call switches to its target, which starts
        // with the same r1 (the context) and this frame's stack, and never returns.
        macro_rules! call_helper {
            ($id:expr) => {{
                let id = $id;
                st.regs = cpu.regs;
                let r = call::helper(self, st, id, pc!());
                cpu.regs = st.regs;
                match r {
                    Ok(v) => cpu.regs[0] = v,
                    Err(kind) => break Err(self.error_at(here!(), kind)),
                }
                if let Some(target) = st.enter.take() {
                    jump!(target);
                }
                if let Some(target) = st.tail_call.take() {
                    charge!();
                    self.switch_program(target);
                    code = code_of(self.current);
                    ip = code.as_ptr();
                    room = room.wrapping_add(ip as u64);
                }
            }};
        }
        let result = loop {
            // SAFETY: `ip` points to an op of `code` (index < `code.len()`) here. Every program in
            // `all` passed `decoded::pc_stays_in` when it was decoded, and `code` is always the
            // ops of `self.current`: `pc` starts at 0 of a non-empty slice (at the start and
            // after a tail call); jumps and calls only set it to a target checked in the same
            // program; a return sets it to the op after a `CallLocal` (which is not the last op)
            // of the program that made the call, which the frame records and which becomes
            // `code` again first (a tail call from a subprogram changes `code` under the frame);
            // falling through (by one op, or by two after a superinstruction) never passes the
            // final `FellOff`, which ends the run.
            let op = unsafe { &*ip };
            ip = ip.wrapping_add(1);
            let before = if TRACE { cpu.regs } else { [0; 16] };
            let idx = if TRACE { here!() } else { 0 };
            match *op {
                Op::Add64I { d, k } => r!(d) = r!(d).wrapping_add(k),
                Op::Add64R { d, s } => r!(d) = r!(d).wrapping_add(r!(s)),
                Op::Sub64I { d, k } => r!(d) = r!(d).wrapping_sub(k),
                Op::Sub64R { d, s } => r!(d) = r!(d).wrapping_sub(r!(s)),
                Op::Mul64I { d, k } => r!(d) = r!(d).wrapping_mul(k),
                Op::Mul64R { d, s } => r!(d) = r!(d).wrapping_mul(r!(s)),
                Op::Div64I { d, k } => r!(d) = alu::div64(r!(d), k),
                Op::Div64R { d, s } => r!(d) = alu::div64(r!(d), r!(s)),
                Op::SDiv64I { d, k } => r!(d) = alu::sdiv64(r!(d), k),
                Op::SDiv64R { d, s } => r!(d) = alu::sdiv64(r!(d), r!(s)),
                Op::Mod64I { d, k } => r!(d) = alu::mod64(r!(d), k),
                Op::Mod64R { d, s } => r!(d) = alu::mod64(r!(d), r!(s)),
                Op::SMod64I { d, k } => r!(d) = alu::smod64(r!(d), k),
                Op::SMod64R { d, s } => r!(d) = alu::smod64(r!(d), r!(s)),
                Op::Or64I { d, k } => r!(d) |= k,
                Op::Or64R { d, s } => r!(d) |= r!(s),
                Op::And64I { d, k } => r!(d) &= k,
                Op::And64R { d, s } => r!(d) &= r!(s),
                Op::Lsh64I { d, k } => r!(d) <<= k & 63,
                Op::Lsh64R { d, s } => r!(d) <<= r!(s) & 63,
                Op::Rsh64I { d, k } => r!(d) >>= k & 63,
                Op::Rsh64R { d, s } => r!(d) >>= r!(s) & 63,
                Op::Arsh64I { d, k } => r!(d) = ((r!(d) as i64) >> (k & 63)) as u64,
                Op::Arsh64R { d, s } => r!(d) = ((r!(d) as i64) >> (r!(s) & 63)) as u64,
                Op::Xor64I { d, k } => r!(d) ^= k,
                Op::Xor64R { d, s } => r!(d) ^= r!(s),
                Op::Mov64I { d, k } => r!(d) = k,
                Op::Mov64R { d, s } => r!(d) = r!(s),
                Op::MovSx64 { d, s, bits } => r!(d) = alu::sext(r!(s), bits),
                Op::Neg64 { d } => r!(d) = r!(d).wrapping_neg(),

                Op::Add32I { d, k } => r!(d) = (r!(d) as u32).wrapping_add(k) as u64,
                Op::Add32R { d, s } => r!(d) = (r!(d) as u32).wrapping_add(r!(s) as u32) as u64,
                Op::Sub32I { d, k } => r!(d) = (r!(d) as u32).wrapping_sub(k) as u64,
                Op::Sub32R { d, s } => r!(d) = (r!(d) as u32).wrapping_sub(r!(s) as u32) as u64,
                Op::Mul32I { d, k } => r!(d) = (r!(d) as u32).wrapping_mul(k) as u64,
                Op::Mul32R { d, s } => r!(d) = (r!(d) as u32).wrapping_mul(r!(s) as u32) as u64,
                Op::Div32I { d, k } => r!(d) = alu::div32(r!(d), k),
                Op::Div32R { d, s } => r!(d) = alu::div32(r!(d), r!(s) as u32),
                Op::SDiv32I { d, k } => r!(d) = alu::sdiv32(r!(d), k),
                Op::SDiv32R { d, s } => r!(d) = alu::sdiv32(r!(d), r!(s) as u32),
                Op::Mod32I { d, k } => r!(d) = alu::mod32(r!(d), k),
                Op::Mod32R { d, s } => r!(d) = alu::mod32(r!(d), r!(s) as u32),
                Op::SMod32I { d, k } => r!(d) = alu::smod32(r!(d), k),
                Op::SMod32R { d, s } => r!(d) = alu::smod32(r!(d), r!(s) as u32),
                Op::Or32I { d, k } => r!(d) = (r!(d) as u32 | k) as u64,
                Op::Or32R { d, s } => r!(d) = (r!(d) as u32 | r!(s) as u32) as u64,
                Op::And32I { d, k } => r!(d) = (r!(d) as u32 & k) as u64,
                Op::And32R { d, s } => r!(d) = (r!(d) as u32 & r!(s) as u32) as u64,
                Op::Lsh32I { d, k } => r!(d) = ((r!(d) as u32) << (k & 31)) as u64,
                Op::Lsh32R { d, s } => r!(d) = ((r!(d) as u32) << (r!(s) & 31)) as u64,
                Op::Rsh32I { d, k } => r!(d) = ((r!(d) as u32) >> (k & 31)) as u64,
                Op::Rsh32R { d, s } => r!(d) = ((r!(d) as u32) >> (r!(s) & 31)) as u64,
                Op::Arsh32I { d, k } => r!(d) = ((r!(d) as i32) >> (k & 31)) as u32 as u64,
                Op::Arsh32R { d, s } => r!(d) = ((r!(d) as i32) >> (r!(s) & 31)) as u32 as u64,
                Op::Xor32I { d, k } => r!(d) = (r!(d) as u32 ^ k) as u64,
                Op::Xor32R { d, s } => r!(d) = (r!(d) as u32 ^ r!(s) as u32) as u64,
                Op::Mov32I { d, k } => r!(d) = k as u64,
                Op::Mov32R { d, s } => r!(d) = r!(s) as u32 as u64,
                Op::MovSx32 { d, s, bits } => r!(d) = alu::sext32(r!(s), bits),
                Op::Neg32 { d } => r!(d) = (r!(d) as u32).wrapping_neg() as u64,
                Op::Endian { d, op, bits } => r!(d) = alu::endian(r!(d), op, bits),
                Op::LdImm64 { d, k } => r!(d) = k,

                Op::Ja { t } => jump!(t),
                Op::JeqI { d, k, t } => {
                    if r!(d) == k {
                        jump!(t)
                    }
                }
                Op::JeqR { d, s, t } => {
                    if r!(d) == r!(s) {
                        jump!(t)
                    }
                }
                Op::JneI { d, k, t } => {
                    if r!(d) != k {
                        jump!(t)
                    }
                }
                Op::JneR { d, s, t } => {
                    if r!(d) != r!(s) {
                        jump!(t)
                    }
                }
                Op::JgtI { d, k, t } => {
                    if r!(d) > k {
                        jump!(t)
                    }
                }
                Op::JgtR { d, s, t } => {
                    if r!(d) > r!(s) {
                        jump!(t)
                    }
                }
                Op::JgeI { d, k, t } => {
                    if r!(d) >= k {
                        jump!(t)
                    }
                }
                Op::JgeR { d, s, t } => {
                    if r!(d) >= r!(s) {
                        jump!(t)
                    }
                }
                Op::JltI { d, k, t } => {
                    if r!(d) < k {
                        jump!(t)
                    }
                }
                Op::JltR { d, s, t } => {
                    if r!(d) < r!(s) {
                        jump!(t)
                    }
                }
                Op::JleI { d, k, t } => {
                    if r!(d) <= k {
                        jump!(t)
                    }
                }
                Op::JleR { d, s, t } => {
                    if r!(d) <= r!(s) {
                        jump!(t)
                    }
                }
                Op::JsgtI { d, k, t } => {
                    if (r!(d) as i64) > (k as i64) {
                        jump!(t)
                    }
                }
                Op::JsgtR { d, s, t } => {
                    if (r!(d) as i64) > (r!(s) as i64) {
                        jump!(t)
                    }
                }
                Op::JsgeI { d, k, t } => {
                    if (r!(d) as i64) >= (k as i64) {
                        jump!(t)
                    }
                }
                Op::JsgeR { d, s, t } => {
                    if (r!(d) as i64) >= (r!(s) as i64) {
                        jump!(t)
                    }
                }
                Op::JsltI { d, k, t } => {
                    if (r!(d) as i64) < (k as i64) {
                        jump!(t)
                    }
                }
                Op::JsltR { d, s, t } => {
                    if (r!(d) as i64) < (r!(s) as i64) {
                        jump!(t)
                    }
                }
                Op::JsleI { d, k, t } => {
                    if (r!(d) as i64) <= (k as i64) {
                        jump!(t)
                    }
                }
                Op::JsleR { d, s, t } => {
                    if (r!(d) as i64) <= (r!(s) as i64) {
                        jump!(t)
                    }
                }
                Op::JsetI { d, k, t } => {
                    if r!(d) & k != 0 {
                        jump!(t)
                    }
                }
                Op::JsetR { d, s, t } => {
                    if r!(d) & r!(s) != 0 {
                        jump!(t)
                    }
                }
                Op::AddJltI { d, k, b, t } => {
                    // Superinstruction: the jump is the next instruction, at `idx + 1`.
                    r!(d) = r!(d).wrapping_add(k as i64 as u64);
                    ip = ip.wrapping_add(1);
                    if r!(d) < b as i64 as u64 {
                        jump!(t)
                    }
                }
                Op::AddJneI { d, k, b, t } => {
                    // Superinstruction: the jump is the next instruction, at `idx + 1`.
                    r!(d) = r!(d).wrapping_add(k as i64 as u64);
                    ip = ip.wrapping_add(1);
                    if r!(d) != b as i64 as u64 {
                        jump!(t)
                    }
                }
                Op::AddJltR { d, s, k, t } => {
                    // Superinstruction: the jump is the next instruction, at `idx + 1`.
                    r!(d) = r!(d).wrapping_add(k as i64 as u64);
                    ip = ip.wrapping_add(1);
                    if r!(d) < r!(s) {
                        jump!(t)
                    }
                }
                Op::AddJgtR { d, s, k, t } => {
                    // Superinstruction: the jump is the next instruction, at `idx + 1`.
                    r!(d) = r!(d).wrapping_add(k as i64 as u64);
                    ip = ip.wrapping_add(1);
                    if r!(d) > r!(s) {
                        jump!(t)
                    }
                }
                Op::AddJneR { d, s, k, t } => {
                    // Superinstruction: the jump is the next instruction, at `idx + 1`.
                    r!(d) = r!(d).wrapping_add(k as i64 as u64);
                    ip = ip.wrapping_add(1);
                    if r!(d) != r!(s) {
                        jump!(t)
                    }
                }
                Op::LdxDW2 { d, s, d2, off, off2 } => {
                    // A fault in the second load is the second instruction's (index `idx + 1`).
                    r!(d) = mem_try!(self.mem.read::<8>(addr!(s, off)));
                    ip = ip.wrapping_add(1);
                    r!(d2) = mem_try!(self.mem.read::<8>(addr!(s, off2)));
                }
                Op::StxDW2 { d, s, s2, off, off2 } => {
                    mem_try!(self.mem.write::<8>(addr!(d, off), r!(s)));
                    ip = ip.wrapping_add(1);
                    mem_try!(self.mem.write::<8>(addr!(d, off2), r!(s2)));
                }
                Op::MovAdd64R { d, a, b } => {
                    r!(d) = r!(a).wrapping_add(r!(b));
                    ip = ip.wrapping_add(1);
                }
                Op::MovAdd64I { d, a, k } => {
                    r!(d) = r!(a).wrapping_add(k as i64 as u64);
                    ip = ip.wrapping_add(1);
                }
                Op::Jmp32I { cond, d, k, t } => {
                    if branch::holds32(cond, r!(d) as u32, k) {
                        jump!(t)
                    }
                }
                Op::Jmp32R { cond, d, s, t } => {
                    if branch::holds32(cond, r!(d) as u32, r!(s) as u32) {
                        jump!(t)
                    }
                }

                Op::LdxB { d, s, off } => r!(d) = mem_try!(self.mem.read::<1>(addr!(s, off))),
                Op::LdxH { d, s, off } => r!(d) = mem_try!(self.mem.read::<2>(addr!(s, off))),
                Op::LdxW { d, s, off } => r!(d) = mem_try!(self.mem.read::<4>(addr!(s, off))),
                Op::LdxDW { d, s, off } => r!(d) = mem_try!(self.mem.read::<8>(addr!(s, off))),
                Op::LdxSx { d, s, off, size } => r!(d) = mem_try!(mem::load_sx(&mut self.mem, addr!(s, off), size)),
                Op::StB { d, off, k } => mem_try!(self.mem.write::<1>(addr!(d, off), k)),
                Op::StH { d, off, k } => mem_try!(self.mem.write::<2>(addr!(d, off), k)),
                Op::StW { d, off, k } => mem_try!(self.mem.write::<4>(addr!(d, off), k)),
                Op::StDW { d, off, k } => mem_try!(self.mem.write::<8>(addr!(d, off), k)),
                Op::StxB { d, s, off } => mem_try!(self.mem.write::<1>(addr!(d, off), r!(s))),
                Op::StxH { d, s, off } => mem_try!(self.mem.write::<2>(addr!(d, off), r!(s))),
                Op::StxW { d, s, off } => mem_try!(self.mem.write::<4>(addr!(d, off), r!(s))),
                Op::StxDW { d, s, off } => mem_try!(self.mem.write::<8>(addr!(d, off), r!(s))),
                Op::Atomic { size, op, fetch, d, s, off } => {
                    mem_try!(atomic::exec(&mut self.mem, &mut cpu.regs, size, op, fetch, d, s, off))
                }
                Op::LdPkt { size, ind, k } => {
                    let pt = self.prog.prog_type;
                    if !matches!(pt, ProgType::Socket | ProgType::Tc) {
                        break Err(self.error_at(
                            here!(),
                            ErrorKind::Invalid(format!(
                                "BPF_LD_[ABS|IND] instructions are only allowed in socket and tc programs, not {pt}"
                            )),
                        ));
                    }
                    let off = ind.map_or(0, |s| r!(s) as u32 as i32).wrapping_add(k);
                    match mem::load_packet(&self.mem, off, size) {
                        Some(v) => cpu.regs[0] = v,
                        None => {
                            // The kernel ends the program with 0 on an out-of-bounds LD_ABS/IND.
                            charge!();
                            if TRACE {
                                self.trace_step(st, idx, &before, &cpu.regs);
                            }
                            break Ok(0);
                        }
                    }
                }

                Op::Call { id } => call_helper!(id as i64),
                // `callx` reaches the same helpers by number, `bpf_tail_call` included.
                Op::Callx { d } => call_helper!(r!(d) as i64),
                Op::CallLocal { t } => {
                    if st.frames.len() + 1 >= MAX_CALL_FRAMES {
                        break Err(self.error_at(here!(), ErrorKind::CallDepth { max: MAX_CALL_FRAMES }));
                    }
                    let saved = [cpu.regs[6], cpu.regs[7], cpu.regs[8], cpu.regs[9]];
                    st.frames.push(Frame { ret: pc!(), prog: self.current, saved, callback: false });
                    cpu.regs[10] = memory::frame_pointer(st.frames.len());
                    jump!(t);
                }
                Op::Exit => match st.frames.pop() {
                    None => {
                        charge!();
                        if TRACE {
                            self.trace_step(st, idx, &before, &cpu.regs);
                        }
                        break Ok(cpu.regs[0]);
                    }
                    Some(f) => {
                        cpu.regs[6..10].copy_from_slice(&f.saved);
                        cpu.regs[10] = memory::frame_pointer(st.frames.len());
                        if f.prog != self.current {
                            // A tail call replaced the callee: back to the caller's program
                            // first, so `f.ret` indexes the ops it was taken from.
                            self.switch_program(f.prog);
                            code = code_of(self.current);
                        }
                        if !f.callback {
                            jump!(f.ret);
                        } else {
                            // Back in the helper: the callback's next call, or the helper's end.
                            st.regs = cpu.regs;
                            let r = call::callback_returned(self, st, f.ret);
                            cpu.regs = st.regs;
                            match r {
                                Ok(target) => jump!(target),
                                Err(kind) => break Err(self.error_at(here!(), kind)),
                            }
                        }
                    }
                },
                Op::FellOff => break Err(self.error_at(here!(), ErrorKind::FellOffEnd)),
            }
            if TRACE {
                self.trace_step(st, idx, &before, &cpu.regs);
            }
        };
        st.executed = limit.wrapping_sub(room) / OP;
        *self.code_for::<TRACE>() = all;
        self.cpu = Some(cpu);
        result
    }

    /// Appends the trace line of decoded op `idx`: `pc: (opcode) insn ; R1=0x10 ...`.
    #[inline(never)]
    fn trace_step(&self, st: &mut State, idx: usize, before: &[u64; 16], after: &[u64; 16]) {
        let Some(insn) = self.prog.insns.get(idx) else { return };
        let opcode = crate::isa::encode_one(insn).0.opcode;
        // The kernel verifier log's words: `5: (07) r1 += 8 ; R1=16`.
        let text = kernel_log::format_insn(insn, &FormatCtx { maps: &self.prog.maps });
        let mut line = format!("{}: ({opcode:02x}) {text}", self.code.pcs[idx]);
        let changed: Vec<String> = (0..11)
            .filter(|&r| before[r] != after[r])
            .map(|r| format!("R{r}={}", kernel_log::reg_value(after[r])))
            .collect();
        if !changed.is_empty() {
            line.push_str(" ; ");
            line.push_str(&changed.join(" "));
        }
        if let Some(steps) = &mut st.steps {
            steps.push(steps::Step::capture(self, self.code.pcs[idx], insn, after, st.frames.len()));
        }
        st.exec_trace.push(line);
    }
}

/// `BPF_F_RDONLY_PROG`: the program may only read the map.
pub const BPF_F_RDONLY_PROG: u32 = crate::runtime::maps::BPF_F_RDONLY_PROG;
