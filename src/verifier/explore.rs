//! The exploration (the kernel's `do_check`): one path at a time, depth first, with a worklist
//! of the other sides of branches (`push_stack`/`pop_stack`); at prune points a state covered by
//! one already verified there ends its path (`is_state_visited`), a state equal to one still
//! being explored there is an infinite loop; at most 1,000,000 instructions are processed and
//! at most 8192 branches wait.

use super::cfg::Cfg;
use super::reg::{MapInfo, RegKind, RegState};
use super::state::{self, Exactness, Frame, VState};
use super::{log::Log, PathStep, Stats, VerifyOptions, Warning, COMPLEXITY_LIMIT_INSNS};
use crate::isa::{Insn, Reg};
use crate::program::{ProgType, Program};

/// The kernel's limit on branches waiting to be explored (`BPF_COMPLEXITY_LIMIT_JMP_SEQ`).
pub const COMPLEXITY_LIMIT_JMP_SEQ: usize = 8192;

/// A rejection before it is placed: the kernel's words and the registers it is about.
#[derive(Clone, Debug)]
pub struct VErr {
    /// The message.
    pub msg: String,
    /// Registers involved (for the explanation).
    pub regs: Vec<u8>,
    /// The instruction named, when it is not the one being checked.
    pub insn: Option<usize>,
}

/// Result of checking one instruction.
pub type VResult<T> = Result<T, VErr>;

/// An error about registers `regs`.
pub fn verr(msg: impl Into<String>, regs: &[u8]) -> VErr {
    VErr { msg: msg.into(), regs: regs.to_vec(), insn: None }
}

/// Where control goes after an instruction.
pub enum Next {
    /// To this slot.
    Goto(usize),
    /// Both ways: continue at `fall` with the current state; `state` waits to continue at `target`.
    Fork { target: usize, state: Box<VState> },
    /// The path ended (program exit).
    Done,
}

/// Why exploration stopped: the error, the slot it names, the branches on the way there and
/// the state at that point.
pub struct Failure {
    /// The error.
    pub err: VErr,
    /// The slot the kernel's message is about (none for the complexity limit, which stops the
    /// kernel between instructions).
    pub insn: Option<usize>,
    /// The path.
    pub path: Vec<PathStep>,
    /// The state when the error was found.
    pub state: VState,
}

/// A stored state at a prune point (`struct bpf_verifier_state_list`).
struct Stored {
    state: VState,
    hits: u32,
    misses: u32,
    /// Paths still being explored below this state (`branches`); 0 = fully verified.
    branches: u32,
    parent: Option<usize>,
}

/// The branches taken so far, newest first, shared between the paths that forked from it (a
/// persistent list, so a fork costs nothing however long the path).
#[derive(Clone, Default)]
struct Path(Option<std::rc::Rc<(PathStep, Path)>>);

impl Path {
    /// Most steps shown: a loop's path can be very long, and its end is what explains the error.
    const SHOWN: usize = 64;

    fn push(&mut self, step: PathStep) {
        *self = Path(Some(std::rc::Rc::new((step, std::mem::take(self)))));
    }

    /// The last [`Path::SHOWN`] steps, oldest first.
    fn to_vec(&self) -> Vec<PathStep> {
        let mut out = Vec::new();
        let mut cur = &self.0;
        while let Some(node) = cur {
            if out.len() == Path::SHOWN {
                break;
            }
            out.push(node.0.clone());
            cur = &node.1 .0;
        }
        out.reverse();
        out
    }
}

/// Dropped node by node: a recursive drop of a long path would overflow the thread's stack.
impl Drop for Path {
    fn drop(&mut self) {
        let mut cur = self.0.take();
        while let Some(node) = cur {
            match std::rc::Rc::try_unwrap(node) {
                Ok((_, mut next)) => cur = next.0.take(),
                Err(_) => break,
            }
        }
    }
}

/// A path waiting to be explored.
struct Pending {
    state: VState,
    insn: usize,
    from: usize,
    parent: Option<usize>,
    path: Path,
}

/// Everything one verification needs.
pub struct Env<'a> {
    /// The program.
    pub program: &'a Program,
    /// Its shape.
    pub cfg: Cfg,
    /// Maps: the program's, then (for `mem` programs) the input buffer's.
    pub maps: Vec<MapInfo>,
    /// The program type.
    pub prog_type: ProgType,
    /// Frames below the program's own (1 for `mem` programs, which the kernel verifies as a
    /// function called by a wrapper).
    pub base_frames: usize,
    /// Slots the kernel backend's wrapper puts before a `mem` program (messages that quote an
    /// instruction number in their text use the wrapped numbering).
    pub insn_shift: usize,
    /// Last id handed out (`id_gen`).
    pub id_gen: u32,
    /// Deepest stack use per subprogram, in bytes.
    pub stack_depth: Vec<u32>,
    /// Warnings so far (deduplicated by instruction).
    pub warnings: Vec<Warning>,
    /// The log.
    pub log: Log,
    /// The slot being checked.
    pub insn_idx: usize,
    /// States seen per slot, when asked for.
    pub kept: Option<Vec<Vec<VState>>>,
    /// Per slot, what its memory access was proved to stay within so far, when asked for.
    pub proofs: Option<Vec<Option<super::AccessProof>>>,
    stats: Stats,
    jmps_processed: u64,
    prev_jmps: u64,
    prev_insns: u64,
    stored: Vec<Stored>,
    at: Vec<Vec<usize>>,
    /// Processed instructions allowed ([`VerifyOptions::insn_limit`]).
    pub insn_limit: u64,
}

impl<'a> Env<'a> {
    /// A new id (`++env->id_gen`).
    pub fn new_id(&mut self) -> u32 {
        self.id_gen += 1;
        self.id_gen
    }

    /// The instruction at slot `s`.
    pub fn insn(&self, s: usize) -> Option<&'a Insn> {
        self.cfg.insn(&self.program.insns, s)
    }

    /// Records a warning once per instruction.
    pub fn warn(&mut self, message: String) {
        let insn = self.insn_idx;
        if !self.warnings.iter().any(|w| w.insn == insn) {
            self.warnings.push(Warning { insn, message });
        }
    }

    /// Notes that the current function uses `depth` bytes of stack.
    pub fn use_stack(&mut self, st: &VState, depth: u32) {
        let sub = st.cur().subprog;
        if let Some(d) = self.stack_depth.get_mut(sub) {
            *d = (*d).max(depth);
        }
    }

    /// Builds the environment; `Err` for a structural rejection.
    pub fn new(program: &'a Program, options: &VerifyOptions) -> Result<Env<'a>, super::cfg::CfgError> {
        let cfg = super::cfg::analyse(&program.insns)?;
        let mut maps: Vec<MapInfo> = program
            .maps
            .iter()
            .map(|m| MapInfo {
                name: m.name.clone(),
                map_type: m.map_type,
                key_size: m.key_size,
                value_size: m.value_size,
                max_entries: m.max_entries,
                inner: None,
            })
            .collect();
        let wrapped = program.prog_type == ProgType::Mem && !has_legacy_loads(program);
        if wrapped {
            maps.push(MapInfo {
                name: "ebpf_lab_mem".into(),
                map_type: crate::program::MapType::Array,
                key_size: 4,
                value_size: options.mem_len,
                max_entries: 1,
                inner: None,
            });
        }
        // Inner map templates follow the program's maps (and the wrapper's); the kernel's `inner_map_meta` has no name.
        for (i, m) in program.maps.iter().enumerate() {
            if let Some(t) = &m.extra.inner {
                maps[i].inner = Some(maps.len() as u32);
                maps.push(MapInfo {
                    name: String::new(),
                    map_type: t.map_type,
                    key_size: t.key_size,
                    value_size: t.value_size,
                    max_entries: t.max_entries,
                    inner: None,
                });
            }
        }
        let len = cfg.insn_at.len();
        let subs = cfg.subprogs.len();
        let tail_call = crate::isa::CallTarget::Helper(crate::runtime::helpers::BPF_FUNC_TAIL_CALL as i32);
        let in_subprog = (0..len)
            .any(|s| cfg.insn(&program.insns, s) == Some(&Insn::Call(tail_call)) && (wrapped || cfg.subprog_of(s) > 0));
        let direct_value = program.insns.iter().any(|i| match *i {
            Insn::LoadImm64 { src: crate::isa::ImmSrc::MapIdxValue | crate::isa::ImmSrc::MapValue, imm, .. } => {
                program.maps.get(imm as usize).is_some_and(|m| m.map_type != crate::program::MapType::Array)
            }
            _ => false,
        });
        if direct_value {
            // `map_direct_value_addr` exists for array maps only.
            return Err(super::cfg::CfgError {
                insn: None,
                message: "no direct value access support for this map type".into(),
            });
        }
        if in_subprog {
            return Err(super::cfg::CfgError {
                insn: None,
                message: "tail_call is not allowed in subprogs without BTF".into(),
            });
        }
        Ok(Env {
            program,
            cfg,
            maps,
            prog_type: program.prog_type,
            base_frames: usize::from(wrapped),
            insn_shift: if !wrapped {
                0
            } else if options.mem_len > 0 {
                8
            } else {
                7
            },
            id_gen: 0,
            stack_depth: vec![0; subs],
            warnings: Vec::new(),
            log: Log::new(options.log_level),
            insn_idx: 0,
            kept: options.keep_states.then(|| vec![Vec::new(); len]),
            proofs: options.record_proofs.then(|| vec![None; len]),
            stats: Stats::default(),
            jmps_processed: 0,
            prev_jmps: 0,
            prev_insns: 0,
            stored: Vec::new(),
            at: vec![Vec::new(); len],
            insn_limit: options.insn_limit.unwrap_or(COMPLEXITY_LIMIT_INSNS),
        })
    }

    /// The state at program entry.
    pub fn initial_state(&self, mem_len: u32) -> VState {
        let mut frames = Vec::new();
        if self.base_frames == 1 {
            // The wrapper: r1 = the buffer as a map value (or 0), r2 = its length, then the call.
            frames.push(Frame::new(0, 0, usize::MAX));
            let mut f = Frame::new(1, 0, 0);
            f.regs[1] = if mem_len == 0 {
                RegState::known(0)
            } else {
                RegState { map: (self.maps.len() - 1) as u32, ..RegState::pointer(RegKind::MapValue) }
            };
            f.regs[2] = RegState::known(mem_len as u64);
            frames.push(f);
        } else {
            let mut f = Frame::new(0, 0, 0);
            f.regs[1] = RegState::pointer(RegKind::Ctx);
            frames.push(f);
        }
        VState { frames, refs: Vec::new(), callback_unroll_depth: 0 }
    }

    fn live_mask(&self, st: &VState, insn: usize, frame: usize) -> u16 {
        if frame + 1 == st.frames.len() {
            self.cfg.live.get(insn).copied().unwrap_or(0xffff)
        } else {
            let site = st.frames[frame + 1].callsite;
            // The wrapper's frame has no program instruction; compare all of it.
            if frame < self.base_frames {
                0xffff
            } else {
                self.cfg.live.get(site).copied().unwrap_or(0xffff)
            }
        }
    }

    /// `is_state_visited`: `Ok(true)` when the path can stop here.
    fn visit(&mut self, st: &VState, insn: usize, parent: &mut Option<usize>) -> VResult<bool> {
        let ids = std::mem::take(&mut self.at[insn]);
        // A helper call that calls back is where its callback's visits come back to: its states
        // are always kept, and one still being explored below covers a later visit (the visits
        // converge) rather than making it an infinite loop.
        let callback_site = self.insn(insn).is_some_and(super::cfg::is_callback_call);
        let mut add =
            callback_site || (self.jmps_processed - self.prev_jmps >= 2 && self.stats.processed - self.prev_insns >= 8);
        let n = ids.len() as u64;
        let mut keep = Vec::with_capacity(ids.len());
        let mut outcome = Ok(false);
        for (k, &i) in ids.iter().enumerate() {
            let live = |f: usize| self.live_mask(st, insn, f);
            let old = &self.stored[i];
            if old.branches > 0 && callback_site {
                if state::states_equal(&old.state, st, live, Exactness::Within) {
                    self.stored[i].hits += 1;
                    outcome = Ok(true);
                    keep.extend_from_slice(&ids[k..]);
                    break;
                }
            } else if old.branches > 0 {
                if state::maybe_looping(&old.state, st)
                    && old.state.callback_unroll_depth == st.callback_unroll_depth
                    && state::states_equal(&old.state, st, live, Exactness::Exact)
                {
                    outcome = Err(verr(format!("infinite loop detected at insn {insn}"), &[]));
                    keep.extend_from_slice(&ids[k..]);
                    break;
                }
                if self.jmps_processed - self.prev_jmps < 20
                    && self.stats.processed - self.prev_insns < 100
                    && !callback_site
                {
                    add = false;
                }
            } else if state::states_equal(&old.state, st, live, Exactness::Within) {
                self.stored[i].hits += 1;
                outcome = Ok(true);
                keep.extend_from_slice(&ids[k..]);
                break;
            }
            // A miss; a state that keeps missing is dropped from the list (`miss_cnt`).
            let s = &mut self.stored[i];
            if add {
                s.misses += 1;
            }
            if s.misses <= s.hits * 3 + 3 {
                keep.push(i);
            }
        }
        self.at[insn] = keep;
        if !matches!(outcome, Ok(false)) {
            return outcome;
        }
        self.stats.max_states_per_insn = self.stats.max_states_per_insn.max(n);
        if add {
            self.prev_jmps = self.jmps_processed;
            self.prev_insns = self.stats.processed;
            let id = self.stored.len();
            self.stored.push(Stored { state: st.clone(), hits: 0, misses: 0, branches: 1, parent: *parent });
            self.at[insn].push(id);
            *parent = Some(id);
            self.stats.total_states += 1;
            self.stats.peak_states = self.stats.peak_states.max(self.stored.len() as u64);
        }
        Ok(false)
    }

    /// A path ended: its stored ancestors have one branch less (`update_branch_counts`).
    fn finish(&mut self, mut node: Option<usize>) {
        while let Some(i) = node {
            let s = &mut self.stored[i];
            s.branches = s.branches.saturating_sub(1);
            if s.branches > 0 {
                break;
            }
            node = s.parent;
        }
    }

    /// Explores every path. `Err` carries the rejection, its slot and the path to it.
    pub fn run(&mut self, init: VState) -> Result<(), Box<Failure>> {
        let mut stack: Vec<Pending> =
            vec![Pending { state: init, insn: 0, from: 0, parent: None, path: Path::default() }];
        let mut first = true;
        while let Some(p) = stack.pop() {
            let Pending { state: mut st, insn: mut pc, from, mut parent, mut path } = p;
            if !first {
                self.log.branch(from, pc, &st, &self.maps);
            }
            first = false;
            loop {
                self.insn_idx = pc;
                self.stats.processed += 1;
                if self.stats.processed > self.insn_limit {
                    let msg = format!("BPF program is too large. Processed {} insn", self.stats.processed);
                    return Err(Box::new(Failure { err: verr(msg, &[]), insn: None, path: path.to_vec(), state: st }));
                }
                if self.cfg.prune.get(pc).copied().unwrap_or(false) {
                    match self.visit(&st, pc, &mut parent) {
                        Ok(true) => {
                            self.log.safe(pc);
                            break;
                        }
                        Ok(false) => {}
                        Err(e) => {
                            return Err(Box::new(Failure { err: e, insn: Some(pc), path: path.to_vec(), state: st }))
                        }
                    }
                }
                if let Some(kept) = &mut self.kept {
                    if kept[pc].len() < 64 && !kept[pc].contains(&st) {
                        kept[pc].push(st.clone());
                    }
                }
                let Some(insn) = self.insn(pc) else {
                    return Err(Box::new(Failure {
                        err: verr(format!("invalid insn idx {pc}"), &[]),
                        insn: Some(pc),
                        path: path.to_vec(),
                        state: st,
                    }));
                };
                if matches!(insn, Insn::Ja { .. } | Insn::Jmp { .. } | Insn::Call(_) | Insn::Exit) {
                    self.jmps_processed += 1;
                }
                let before = self.log.enabled().then(|| st.clone());
                let next = match self.step(&mut st, pc, insn) {
                    Ok(n) => n,
                    Err(e) => {
                        self.log.insn(pc, insn, &self.program.maps, None, &st, &self.maps);
                        let at = e.insn.unwrap_or(pc);
                        return Err(Box::new(Failure { err: e, insn: Some(at), path: path.to_vec(), state: st }));
                    }
                };
                self.log.insn(pc, insn, &self.program.maps, before.as_ref(), &st, &self.maps);
                match next {
                    Next::Goto(t) => {
                        if let Insn::Jmp { .. } = insn {
                            path.push(PathStep { insn: pc, to: t, taken: t != pc + 1 });
                        }
                        pc = t;
                    }
                    Next::Fork { target, state } => {
                        if stack.len() >= COMPLEXITY_LIMIT_JMP_SEQ {
                            let msg = format!("The sequence of {} jumps is too complex.", stack.len() + 1);
                            return Err(Box::new(Failure {
                                err: verr(msg, &[]),
                                insn: Some(pc),
                                path: path.to_vec(),
                                state: st,
                            }));
                        }
                        if let Some(p) = parent {
                            self.stored[p].branches += 1;
                        }
                        let mut taken_path = path.clone();
                        taken_path.push(PathStep { insn: pc, to: target, taken: true });
                        stack.push(Pending { state: *state, insn: target, from: pc, parent, path: taken_path });
                        path.push(PathStep { insn: pc, to: pc + 1, taken: false });
                        pc += 1;
                    }
                    Next::Done => break,
                }
            }
            self.finish(parent);
        }
        Ok(())
    }

    /// Checks one instruction, updating `st`.
    fn step(&mut self, st: &mut VState, pc: usize, insn: &Insn) -> VResult<Next> {
        match *insn {
            Insn::Bin { .. } | Insn::Neg { .. } | Insn::Endian { .. } => {
                super::alu::check_alu(self, st, insn)?;
                Ok(Next::Goto(pc + 1))
            }
            Insn::LoadImm64 { dst, src, imm, next_imm } => {
                super::alu::check_ld_imm64(self, st, dst, src, imm, next_imm)?;
                Ok(Next::Goto(pc + 2))
            }
            Insn::Load { .. } | Insn::Store { .. } | Insn::Atomic { .. } | Insn::LegacyLoad { .. } => {
                super::mem::check_mem_insn(self, st, insn)?;
                Ok(Next::Goto(pc + 1))
            }
            Insn::Ja { off, .. } => Ok(Next::Goto((pc as i64 + off as i64 + 1) as usize)),
            Insn::Jmp { width, cond, dst, src, off } => {
                super::branch::check_cond_jmp(self, st, pc, width, cond, dst, src, off)
            }
            Insn::Call(target) => super::call::check_call(self, st, pc, target),
            Insn::Callx { .. } => Err(verr("unknown opcode 8d", &[])),
            Insn::Exit => super::call::check_exit(self, st, pc),
        }
    }

    /// The statistics so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Register `r` of the innermost frame.
    pub fn reg(st: &VState, r: Reg) -> &RegState {
        &st.cur().regs[r.idx()]
    }
}

/// True when the program uses legacy packet loads (which the kernel backend cannot wrap).
pub fn has_legacy_loads(program: &Program) -> bool {
    program.insns.iter().any(|i| matches!(i, Insn::LegacyLoad { .. }))
}
