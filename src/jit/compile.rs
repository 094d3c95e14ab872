//! The code generator: one pass over the instructions, emitting x86-64 with `dynasm`.
//!
//! Register mapping (after the kernel's x86-64 JIT): r0 = rax, r1 = rdi, r2 = rsi, r3 = rdx,
//! r4 = rcx, r5 = r8 (so a helper's arguments sit where the C ABI wants them), r6–r9 = rbx,
//! r13, r14, r15 (callee-saved, like eBPF's), r10 = rbp. r12 points to the [`JitCtx`], r9
//! holds the budget left (so a back-edge costs a register subtract), r10 and r11 are scratch.
//! Shifts use BMI2 (`shlx`, `shrx`, `sarx`), which mask the count to the operand width exactly
//! as eBPF does and leave rcx (r4) alone.
//!
//! Checked accesses compute the virtual address and compare it against one cached region
//! window inline (the stack's for accesses through r10, else the last data region's); a miss
//! jumps to a small per-site stub and a shared routine that tries the other window, then the
//! site's cached context address, then [`jit_resolve`], which checks the access against the
//! region table exactly as the interpreter does. Accesses the verifier proved in bounds
//! (`compile_with` given proofs) skip all that: `Gen::access` is the one place that decides.
//! The budget is charged at taken back-edges (the span of the loop) and at bpf-to-bpf calls.
//!
//! Compile time goes mostly to bytes and pages, so code is kept short: forward jumps use
//! labels, backward ones are encoded by hand, and the windows' fields use short displacements.

use super::code_pages::CodePages;
use super::ctx::{
    jit_helper, jit_ld_pkt, jit_probe, jit_raise, jit_resolve, Hot, JitCtx, FLAG_RETURN, INFO_FIELD_MASK,
    INFO_IDX_SHIFT, INFO_KIND_SHIFT, INFO_LIM_SHIFT, INFO_SITE_SHIFT, KIND_ATOMIC, KIND_READ, KIND_WRITE, RAISE_BUDGET,
    RAISE_DEPTH, RAISE_FELL_OFF, RAISE_STATIC,
};
use super::loops::{counted_loop, CountedLoop, LoopAccess};
use crate::isa::{AtomicOp, BinOp, CallTarget, EndianOp, ImmSrc, Insn, JmpCond, LegacyMode, Operand, Reg, Size, Width};
use crate::program::{ProgType, Program};
use crate::runtime::ctx::CtxLayout;
use crate::runtime::error::{ErrorKind, RuntimeError};
use crate::runtime::helpers::BPF_FUNC_TAIL_CALL;
use crate::runtime::memory::{
    CODE_BASE, CTX_BASE, MAP_PTR_BASE, MAP_PTR_STRIDE, MAP_VALUE_BASE, MAP_VALUE_STRIDE, MAX_CALL_FRAMES, STACK_BASE,
    STACK_SIZE, STACK_STRIDE,
};
use crate::verifier::AccessProof;
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, AssemblyOffset, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};
use std::mem::offset_of;

/// x86-64 register numbers of eBPF r0–r10.
const X: [u8; 11] = [0, 7, 6, 2, 1, 8, 3, 13, 14, 15, 5];

const HOT: i32 = offset_of!(JitCtx, hot) as i32;
const HOT_SIZE: i32 = std::mem::size_of::<Hot>() as i32;
const HOT_BASE: i32 = offset_of!(Hot, base) as i32;
const HOT_HOST: i32 = offset_of!(Hot, host) as i32;
const HOT_LIM: i32 = offset_of!(Hot, lim) as i32;
const ROOM: i32 = offset_of!(JitCtx, room) as i32;
const DEPTH: i32 = offset_of!(JitCtx, depth) as i32;
const SAVED_RSP: i32 = offset_of!(JitCtx, saved_rsp) as i32;
const TMP_RSP: i32 = offset_of!(JitCtx, tmp_rsp) as i32;
const TMP: i32 = offset_of!(JitCtx, tmp) as i32;
const FLAG: i32 = offset_of!(JitCtx, flag) as i32;
const REGS: i32 = offset_of!(JitCtx, regs) as i32;
const SITES: i32 = offset_of!(JitCtx, sites) as i32;
const CTX_HOST: i32 = offset_of!(JitCtx, ctx_host) as i32;
const SITE_INFO: i32 = offset_of!(JitCtx, site_info) as i32;
const CTX_LEN: i32 = offset_of!(JitCtx, ctx_len) as i32;
/// Context offsets a read may be checked statically at (all layouts are far smaller).
const CTX_REACH_STATIC: std::ops::Range<i64> = 0..4096;
const FP_HOST: i32 = offset_of!(JitCtx, fp_host) as i32;
const PKT_DELTA: i32 = offset_of!(JitCtx, pkt_delta) as i32;
/// Some loop heads start at a multiple of this many bytes (a cache line).
const ALIGN_LOOP: usize = 64;
/// Programs with more loops than this align none (the choice is quadratic in their number).
const MAX_ALIGNED_LOOPS: usize = 64;
/// `r10` of the main function; frame *f* adds `f * STACK_STRIDE`.
const FP0: i32 = (STACK_BASE + STACK_SIZE as u64) as i32;

/// A compiled program: native code and where each instruction's code starts.
pub struct Compiled {
    /// The code pages (read and execute only; unmapped on drop).
    pub buf: CodePages,
    /// Entry point: `extern "C" fn(*mut JitCtx) -> u64` (0 = exit, 1 = fault, 2 = tail call).
    pub entry: AssemblyOffset,
    /// Offset of each instruction's code, plus the end of the last one.
    pub insn_offsets: Vec<usize>,
    /// Offset where the shared stubs (slow paths, exits) start.
    pub stubs_at: usize,
    /// Errors found at compile time but raised only when reached.
    pub statics: Vec<ErrorKind>,
    /// Entry point for callbacks: `extern "C" fn(*mut JitCtx, target) -> u64` (see
    /// [`super::callback`]).
    pub callback_entry: AssemblyOffset,
    /// Access sites (loads, stores, atomics): the length of the program's site cache.
    pub sites: usize,
    /// Per access site, what the slow path needs to know (size, kind, instruction...).
    pub site_info: Vec<u64>,
    /// Stores or atomics to the stack that skip the check (so `Memory` cannot see them): the
    /// engine marks the stacks dirty for the next run to zero.
    pub unchecked_stack_writes: bool,
    /// Bpf-to-bpf calls (frames past the first are used).
    pub calls: bool,
    /// The counted loops whose entry has a guard that may run an unchecked copy (see
    /// [`super::loops`]).
    pub counted_loops: Vec<LoopCode>,
}

/// Where a counted loop's guard and unchecked copy are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoopCode {
    /// The loop's first instruction (index into `Program::insns`).
    pub head: usize,
    /// Its back-edge.
    pub back: usize,
    /// Offset of the guard (at the end of the code of the instruction before `head`).
    pub guard: usize,
    /// Offset of the unchecked copy.
    pub copy: usize,
}

/// A counted loop's unchecked copy to emit: entered at `fast`; `body` holds the instructions
/// head to back-edge, with their jump targets.
struct LoopStub {
    fast: DynamicLabel,
    l: CountedLoop,
    body: Vec<(Insn, Option<usize>)>,
}

/// Out-of-line code, emitted after the instructions so the hot path stays straight.
enum Stub {
    /// Miss of an access's first window: call the shared routine trying window `second`,
    /// the site cache, then Rust; continue at `back` with the host address in r11.
    Slow { jae_at: usize, back: usize, second: usize, site: u32 },
    /// Miss of a context read's inline check (see `Gen::ctx_read`): both jumps come here with
    /// the virtual address in r11; continue as a miss of the data window.
    CtxMiss { jumps: [usize; 2], back: usize, site: u32 },
    /// Raise error `code` at `idx`.
    Raise { label: DynamicLabel, code: u64, idx: usize },
    /// The unchecked copy of a counted loop (see [`super::loops`]), entered once its guard
    /// passed. (Boxed: stubs are many, loops few, and every stub is as large as the largest.)
    Loop(Box<LoopStub>),
    /// A conditional back-edge that ran out of budget: give the charge back, then raise if the
    /// jump is taken, else continue at `next`.
    BackEdge {
        label: DynamicLabel,
        width: Width,
        cond: JmpCond,
        d: u8,
        src: Operand,
        span: i32,
        idx: usize,
        next: usize,
    },
}

struct Gen {
    ops: VecAssembler<X64Relocation>,
    /// Labels of the instructions forward jumps and calls target, made when first needed
    /// (backward ones are encoded by hand from `offsets`).
    labels: Vec<Option<DynamicLabel>>,
    /// Where each instruction emitted so far starts.
    offsets: Vec<usize>,
    stubs: Vec<Stub>,
    statics: Vec<ErrorKind>,
    /// Access sites so far.
    sites: usize,
    /// Per access site, its `info` (see `INFO_*`).
    site_info: Vec<u64>,
    /// `(at, target)`: a rel32 at `at` to fill in with the distance to `target` (see `patch`).
    patches: Vec<(usize, usize)>,
    /// Per instruction, what the verifier proved about its access (empty: check everything).
    proofs: Vec<AccessProof>,
    unchecked_stack_writes: bool,
    calls: bool,
    /// The counted loops guarded so far (their copies' offsets filled in with the stubs).
    loops: Vec<LoopCode>,
    resolve: DynamicLabel,
    /// The shared routine a loop guard calls when a window misses (see `Gen::loop_guard`),
    /// emitted with the stubs when `probes`.
    probe: DynamicLabel,
    probes: bool,
    flagged: DynamicLabel,
    fault_exit: DynamicLabel,
    /// The program type's context layout, when it has one at `CTX_BASE`.
    ctx_layout: Option<&'static CtxLayout>,
    /// Per eBPF register, the offset from `CTX_BASE` it is guessed to hold here: `r1` at the
    /// entry, then copies and constant adds, along the instructions in order (a guess, not a
    /// proof: `Gen::ctx_read` checks it, so a wrong one only costs the slow path).
    ctx_regs: [Option<i64>; 11],
}

/// Compiles `prog` with every access checked. Fails on what a loader refuses structurally,
/// with the interpreter's words: jumps outside the program or into `lddw`, writes to `r10`,
/// kfuncs, BTF ids, unknown maps.
pub fn compile(prog: &Program) -> Result<Compiled, RuntimeError> {
    compile_with(prog, None)
}

/// Compiles `prog`; accesses that `proofs` (per slot, from an accepted verification of this
/// program) proves in bounds skip the check.
pub fn compile_with(prog: &Program, proofs: Option<&[AccessProof]>) -> Result<Compiled, RuntimeError> {
    if !std::arch::is_x86_feature_detected!("bmi2") {
        return Err(RuntimeError::new(ErrorKind::Invalid("the JIT needs an x86-64 CPU with BMI2".into())));
    }
    let n = prog.insns.len();
    let slots = prog.slots();
    let err = |i: usize, msg: String| RuntimeError::at_insn(prog, i, ErrorKind::Invalid(msg));
    let target = |i: usize, rel: i64| slots.target(i, rel).map_err(|msg| err(i, msg));
    if n as u64 > INFO_FIELD_MASK {
        return Err(RuntimeError::new(ErrorKind::Invalid(format!(
            "the JIT compiles at most {INFO_FIELD_MASK} instructions, this program has {n}"
        ))));
    }
    // Assembled into one vector sized for the worst usual case (~66 bytes per access, with its
    // stub): growing it copies and faults in fresh pages, where most of the compile time went.
    // Then copied once into the code pages.
    let mut ops = VecAssembler::new_with_capacity(0, 72 * n + 4096, 16, 0, 3 * n + 8, 0, 4 * n + 8);
    let labels = vec![None; n + 1];
    let (resolve, flagged, fault_exit) = (ops.new_dynamic_label(), ops.new_dynamic_label(), ops.new_dynamic_label());
    let probe = ops.new_dynamic_label();
    let proofs = proofs.map_or_else(Vec::new, |p| {
        prog.slot_pcs().iter().map(|&pc| p.get(pc).copied().unwrap_or(AccessProof::Unproven)).collect()
    });
    // Sized for about one stub, site and patch per instruction: growing them copied, and compile
    // time is mostly spent on memory.
    let mut g = Gen {
        ops,
        labels,
        offsets: Vec::with_capacity(n + 1),
        stubs: Vec::with_capacity(n),
        statics: Vec::new(),
        sites: 0,
        site_info: Vec::with_capacity(n),
        patches: Vec::with_capacity(n),
        proofs,
        unchecked_stack_writes: false,
        calls: false,
        loops: Vec::new(),
        resolve,
        probe,
        probes: false,
        flagged,
        fault_exit,
        ctx_layout: crate::runtime::ctx::ctx_layout(prog.prog_type),
        ctx_regs: [None; 11],
    };
    if g.ctx_layout.is_some() {
        g.ctx_regs[1] = Some(0);
    }
    // Counted loops, by their head: a guard on the way in may run an unchecked copy.
    let jump_target = |j: usize| prog.insns[j].branch_offset().and_then(|off| slots.target(j, off).ok());
    let mut entries: Vec<CountedLoop> = Vec::new();
    let mut heads = Vec::new();
    for (j, insn) in prog.insns.iter().enumerate() {
        // Backward jumps only (a negative offset): looking up every target costs compile time.
        if !matches!(insn, Insn::Jmp { off: ..0, .. } | Insn::Ja { off: ..0, .. }) {
            continue;
        }
        let Some(h) = jump_target(j).filter(|&h| h <= j) else { continue };
        heads.push((h, j));
        if matches!(insn, Insn::Jmp { .. }) {
            entries.extend(counted_loop(&prog.insns, h, j, jump_target));
        }
    }
    // The heads of loops that are both outermost (their padding runs once per entry) and
    // innermost (the whole loop is the hot code) start a cache line. Others keep the layout
    // they fall into (aligning the nested loops of log2_1000 made it a third slower).
    let alone = |&(h, j): &(usize, usize)| {
        // No other loop around the head, none inside the body.
        let around = |h2: usize, j2: usize| h2 < h && h <= j2;
        let inside = |h2: usize, j2: usize| h <= h2 && j2 < j;
        heads.iter().all(|&(h2, j2)| (h2, j2) == (h, j) || !(around(h2, j2) || inside(h2, j2)))
    };
    let mut heads: Vec<usize> = if heads.len() <= MAX_ALIGNED_LOOPS {
        heads.iter().filter(|l| alone(l)).map(|l| l.0).collect()
    } else {
        vec![]
    };
    heads.sort_unstable_by_key(|&h| std::cmp::Reverse(h));
    heads.dedup();
    // One guard per head (the innermost loop's: found first), in the order heads come.
    entries.sort_by_key(|l| std::cmp::Reverse(l.head));
    entries.dedup_by_key(|l| l.head);
    // The next instruction a guard or an alignment comes before (one compare per instruction).
    let next_mark = |entries: &[CountedLoop], heads: &[usize]| {
        entries.last().map_or(usize::MAX, |l| l.head).min(heads.last().copied().unwrap_or(usize::MAX))
    };
    let mut mark = next_mark(&entries, &heads);
    for (i, insn) in prog.insns.iter().enumerate() {
        if i == mark {
            if let Some(l) = entries.pop_if(|l| l.head == i) {
                let body = (l.head..=l.back).map(|j| (prog.insns[j], jump_target(j))).collect();
                g.loop_guard(l, body);
            }
            if heads.pop_if(|&mut h| h == i).is_some() {
                g.align(ALIGN_LOOP);
            }
            mark = next_mark(&entries, &heads);
        }
        g.start(i);
        if insn.written_reg() == Some(Reg::R10) {
            return Err(err(i, "frame pointer is read only".into()));
        }
        match *insn {
            Insn::Bin { width, op, dst, src } => g.bin(width, op, X[dst.idx()], src),
            Insn::Neg { width, dst } => g.neg(width, X[dst.idx()]),
            Insn::Endian { op, bits, dst } => g.endian(op, bits, X[dst.idx()]),
            Insn::Ja { off, .. } => {
                let t = target(i, off as i64)?;
                g.jump(None, i, t);
            }
            Insn::Jmp { width, cond, dst, src, off } => {
                let t = target(i, off as i64)?;
                if t > i {
                    g.compare(width, cond, X[dst.idx()], src);
                    g.jump(Some(cond), i, t);
                } else {
                    g.back_edge(width, cond, X[dst.idx()], src, i, t);
                }
            }
            Insn::Call(CallTarget::Helper(id)) => g.helper(Some(id as i64), 0, i),
            Insn::Callx { dst } => g.helper(None, X[dst.idx()], i),
            Insn::Call(CallTarget::Local(rel)) => {
                let t = target(i, rel as i64)?;
                g.local_call(i, t);
            }
            Insn::Call(CallTarget::Kfunc { btf_id, .. }) => {
                return Err(err(i, format!("kernel function calls (kfunc btf_id {btf_id}) need the kernel backend")))
            }
            Insn::Exit => dynasm!(g.ops ; .arch x64 ; ret),
            Insn::LoadImm64 { dst, src, imm, next_imm } => {
                let map = |imm: i32| {
                    usize::try_from(imm)
                        .ok()
                        .filter(|&m| m < prog.maps.len())
                        .ok_or_else(|| err(i, format!("map index {imm} is not declared")))
                };
                let k = match src {
                    ImmSrc::Imm => Insn::imm64(imm, next_imm),
                    // Without a kernel there are no file descriptors: a map "fd" is the index of
                    // the declared map, as with `BPF_PSEUDO_MAP_IDX`.
                    ImmSrc::MapFd | ImmSrc::MapIdx => MAP_PTR_BASE + map(imm)? as u64 * MAP_PTR_STRIDE,
                    ImmSrc::MapValue | ImmSrc::MapIdxValue => {
                        MAP_VALUE_BASE + map(imm)? as u64 * MAP_VALUE_STRIDE + next_imm as u32 as u64
                    }
                    ImmSrc::Func => CODE_BASE + 8 * target(i, imm as i64)? as u64,
                    ImmSrc::BtfId => return Err(err(i, "BTF ids of kernel variables need the kernel backend".into())),
                };
                let d = X[dst.idx()];
                dynasm!(g.ops ; .arch x64 ; mov Rq(d), QWORD k as i64);
            }
            Insn::Load { size, signed, dst, src, off } => {
                match g.ctx_regs[src.idx()].map(|k| k + off as i64) {
                    Some(o) if g.ctx_readable(o, size) => g.ctx_read(X[src.idx()], off, o, size, i),
                    _ => g.access(X[src.idx()], off, size, KIND_READ, i),
                }
                let d = X[dst.idx()];
                match (size, signed) {
                    (Size::B, false) => dynasm!(g.ops ; .arch x64 ; movzx Rd(d), BYTE [r11]),
                    (Size::H, false) => dynasm!(g.ops ; .arch x64 ; movzx Rd(d), WORD [r11]),
                    (Size::W, false) => dynasm!(g.ops ; .arch x64 ; mov Rd(d), DWORD [r11]),
                    (Size::DW, _) => dynasm!(g.ops ; .arch x64 ; mov Rq(d), QWORD [r11]),
                    (Size::B, true) => dynasm!(g.ops ; .arch x64 ; movsx Rq(d), BYTE [r11]),
                    (Size::H, true) => dynasm!(g.ops ; .arch x64 ; movsx Rq(d), WORD [r11]),
                    (Size::W, true) => dynasm!(g.ops ; .arch x64 ; movsxd Rq(d), DWORD [r11]),
                }
            }
            Insn::Store { size, dst, off, src } => {
                g.access(X[dst.idx()], off, size, KIND_WRITE, i);
                match src {
                    Operand::Imm(k) => match size {
                        Size::B => dynasm!(g.ops ; .arch x64 ; mov BYTE [r11], k as i8),
                        Size::H => dynasm!(g.ops ; .arch x64 ; mov WORD [r11], k as i16),
                        Size::W => dynasm!(g.ops ; .arch x64 ; mov DWORD [r11], k),
                        Size::DW => dynasm!(g.ops ; .arch x64 ; mov QWORD [r11], k),
                    },
                    Operand::Reg(s) => {
                        let s = X[s.idx()];
                        match size {
                            Size::B => dynasm!(g.ops ; .arch x64 ; mov BYTE [r11], Rb(s)),
                            Size::H => dynasm!(g.ops ; .arch x64 ; mov WORD [r11], Rw(s)),
                            Size::W => dynasm!(g.ops ; .arch x64 ; mov DWORD [r11], Rd(s)),
                            Size::DW => dynasm!(g.ops ; .arch x64 ; mov QWORD [r11], Rq(s)),
                        }
                    }
                }
            }
            Insn::Atomic { size, op, fetch, dst, src, off } => {
                g.access(X[dst.idx()], off, size, KIND_ATOMIC, i);
                g.atomic(size == Size::DW, op, fetch, X[src.idx()]);
            }
            Insn::LegacyLoad { mode, size, src, imm } => {
                let pt = prog.prog_type;
                if !matches!(pt, ProgType::Socket | ProgType::Tc) {
                    let code = g.static_error(ErrorKind::Invalid(format!(
                        "BPF_LD_[ABS|IND] instructions are only allowed in socket and tc programs, not {pt}"
                    )));
                    g.raise_inline(code, i);
                } else {
                    g.ld_pkt(if mode == LegacyMode::Ind { Some(X[src.idx()]) } else { None }, imm, size);
                }
            }
        }
        if g.ctx_layout.is_some() {
            g.track_ctx(insn);
        }
    }
    g.start(n);
    g.raise_inline(RAISE_FELL_OFF, n);
    let stubs_at = g.ops.offset().0;
    g.stubs();
    let entry = g.prologue();
    let callback_entry = super::callback::emit_entry(&mut g.ops);
    // A callback runs in a frame of its own, as a bpf-to-bpf call does.
    let calls = g.calls || super::callback::uses_callbacks(prog);
    let (statics, sites, unchecked_stack_writes) = (g.statics, g.sites, g.unchecked_stack_writes);
    let counted_loops = g.loops;
    let site_info = g.site_info;
    let insn_offsets = g.offsets;
    let failed = |what: String| RuntimeError::new(ErrorKind::Invalid(format!("JIT: {what}")));
    let mut code = g.ops.finalize().map_err(|e| failed(format!("finalizing code failed: {e}")))?;
    patch(&mut code, &g.patches);
    let buf = CodePages::new(&code).map_err(|e| failed(format!("mapping code pages: {e}")))?;
    Ok(Compiled {
        buf,
        entry,
        insn_offsets,
        stubs_at,
        statics,
        callback_entry,
        sites,
        site_info,
        unchecked_stack_writes,
        calls,
        counted_loops,
    })
}

/// Fills in each rel32 at `at` with the distance from its end to `target`.
fn patch(code: &mut [u8], patches: &[(usize, usize)]) {
    for &(at, target) in patches {
        let rel = (target as i64 - (at as i64 + 4)) as i32;
        code[at..at + 4].copy_from_slice(&rel.to_le_bytes());
    }
}

/// x86's condition code (the low nibble of `jcc`) for `cond` after `cmp` (`test` for `Set`).
fn cc(cond: JmpCond) -> u8 {
    use JmpCond::*;
    match cond {
        Eq => 0x4,
        Ne | Set => 0x5,
        Gt => 0x7,
        Ge => 0x3,
        Lt => 0x2,
        Le => 0x6,
        Sgt => 0xf,
        Sge => 0xd,
        Slt => 0xc,
        Sle => 0xe,
    }
}

/// Whether `k` fits an instruction's sign-extended 8-bit immediate.
fn imm8(k: i32) -> bool {
    i8::try_from(k).is_ok()
}

/// The size class of an access: 0–3 for 1, 2, 4, 8 bytes.
fn class(size: Size) -> i32 {
    match size {
        Size::B => 0,
        Size::H => 1,
        Size::W => 2,
        Size::DW => 3,
    }
}

impl Gen {
    /// Starts instruction `i` (or the end, at `n`): its offset, and its label if a jump
    /// before it asked for one.
    fn start(&mut self, i: usize) {
        if let Some(l) = self.labels[i] {
            dynasm!(self.ops ; .arch x64 ; =>l);
        }
        self.offsets.push(self.ops.offset().0);
    }

    /// The label of instruction `t`, not yet emitted.
    fn label(&mut self, t: usize) -> DynamicLabel {
        match self.labels[t] {
            Some(l) => l,
            None => {
                let l = self.ops.new_dynamic_label();
                self.labels[t] = Some(l);
                l
            }
        }
    }

    /// `jmp` (`call` when `call`) to instruction `t`.
    fn goto(&mut self, call: bool, t: usize) {
        match self.offsets.get(t) {
            Some(&at) => self.rel32(if call { 0xe8 } else { 0xe9 }, at),
            None => {
                let l = self.label(t);
                match call {
                    true => dynasm!(self.ops ; .arch x64 ; call =>l),
                    false => dynasm!(self.ops ; .arch x64 ; jmp =>l),
                }
            }
        }
    }

    /// `jmp`/`call` (`opcode` 0xe9/0xe8) to code already emitted at `at`, encoded by hand: no
    /// label, no relocation to resolve.
    fn rel32(&mut self, opcode: u8, at: usize) {
        let here = self.ops.offset().0 as i64;
        if opcode == 0xe9 {
            if let Ok(rel) = i8::try_from(at as i64 - (here + 2)) {
                return self.ops.extend(&[0xeb, rel as u8]);
            }
        }
        let rel = (at as i64 - (here + 5)) as i32;
        self.ops.push(opcode);
        self.ops.extend(&rel.to_le_bytes());
    }

    /// `jcc` with condition code `cc` (the low nibble) to code already emitted at `at`, in
    /// its 2-byte form when the distance fits.
    fn jcc_at(&mut self, cc: u8, at: usize) {
        let here = self.ops.offset().0 as i64;
        if let Ok(rel) = i8::try_from(at as i64 - (here + 2)) {
            return self.ops.extend(&[0x70 | cc, rel as u8]);
        }
        let rel = (at as i64 - (here + 6)) as i32;
        self.ops.extend(&[0x0f, 0x80 | cc]);
        self.ops.extend(&rel.to_le_bytes());
    }

    /// `sub r9, span` (`add` when `give_back`): charges a loop's span to the budget.
    fn charge(&mut self, span: i32, give_back: bool) {
        match (imm8(span), give_back) {
            (true, false) => dynasm!(self.ops ; .arch x64 ; sub r9, BYTE span as i8),
            (true, true) => dynasm!(self.ops ; .arch x64 ; add r9, BYTE span as i8),
            (false, false) => dynasm!(self.ops ; .arch x64 ; sub r9, span),
            (false, true) => dynasm!(self.ops ; .arch x64 ; add r9, span),
        }
    }

    fn static_error(&mut self, kind: ErrorKind) -> u64 {
        self.statics.push(kind);
        RAISE_STATIC + self.statics.len() as u64 - 1
    }

    /// Calls `f(r12, rsi, rdx)` (arguments already in rsi and rdx) with the stack aligned for
    /// the C ABI, the budget (r9) parked in the context meanwhile. Clobbers every caller-saved
    /// register but r9.
    fn callout(&mut self, f: u64) {
        dynasm!(self.ops ; .arch x64
            ; mov rdi, r12
            ; mov [r12 + ROOM], r9
            ; mov [r12 + TMP_RSP], rsp
            ; and rsp, -16
            ; mov rax, QWORD f as i64
            ; call rax
            ; mov rsp, [r12 + TMP_RSP]
            ; mov r9, [r12 + ROOM]
        );
    }

    /// Raises error `code` at `idx` right here.
    fn raise_inline(&mut self, code: u64, idx: usize) {
        dynasm!(self.ops ; .arch x64 ; mov rsi, QWORD code as i64 ; mov rdx, QWORD idx as i64);
        self.callout(jit_raise as *const () as u64);
        let l = self.fault_exit;
        dynasm!(self.ops ; .arch x64 ; jmp =>l);
    }

    fn spill_args(&mut self) {
        dynasm!(self.ops ; .arch x64
            ; mov [r12 + REGS + 8], rdi ; mov [r12 + REGS + 16], rsi ; mov [r12 + REGS + 24], rdx
            ; mov [r12 + REGS + 32], rcx ; mov [r12 + REGS + 40], r8
        );
    }

    fn reload_args(&mut self) {
        dynasm!(self.ops ; .arch x64
            ; mov rdi, [r12 + REGS + 8] ; mov rsi, [r12 + REGS + 16] ; mov rdx, [r12 + REGS + 24]
            ; mov rcx, [r12 + REGS + 32] ; mov r8, [r12 + REGS + 40]
        );
    }

    fn bin(&mut self, width: Width, op: BinOp, d: u8, src: Operand) {
        use BinOp::*;
        if matches!(op, Div | SDiv | Mod | SMod) {
            return self.div(width == Width::W64, op, d, src);
        }
        match (width, src) {
            // Small immediates take the sign-extended 8-bit forms (as the kernel's JIT): shorter
            // code decodes and caches better in tight loops.
            (_, Operand::Imm(k)) if imm8(k) && matches!(op, Add | Sub | Mul | Or | And | Xor) => {
                self.alu_imm8(width == Width::W64, op, d, k as i8)
            }
            // `r = 0` as `xor` (flags are never live across eBPF instructions).
            (_, Operand::Imm(0)) if op == Mov => dynasm!(self.ops ; .arch x64 ; xor Rd(d), Rd(d)),
            (Width::W64, Operand::Imm(k)) => match op {
                Add => dynasm!(self.ops ; .arch x64 ; add Rq(d), k),
                Sub => dynasm!(self.ops ; .arch x64 ; sub Rq(d), k),
                Mul => dynasm!(self.ops ; .arch x64 ; imul Rq(d), Rq(d), k),
                Or => dynasm!(self.ops ; .arch x64 ; or Rq(d), k),
                And => dynasm!(self.ops ; .arch x64 ; and Rq(d), k),
                Xor => dynasm!(self.ops ; .arch x64 ; xor Rq(d), k),
                Lsh => dynasm!(self.ops ; .arch x64 ; shl Rq(d), (k & 63) as i8),
                Rsh => dynasm!(self.ops ; .arch x64 ; shr Rq(d), (k & 63) as i8),
                Arsh => dynasm!(self.ops ; .arch x64 ; sar Rq(d), (k & 63) as i8),
                // movsx with an immediate moves the sign-extended immediate (as the interpreter).
                _ => {
                    if k >= 0 {
                        dynasm!(self.ops ; .arch x64 ; mov Rd(d), k)
                    } else {
                        dynasm!(self.ops ; .arch x64 ; mov Rq(d), QWORD k as i64)
                    }
                }
            },
            (Width::W64, Operand::Reg(s)) => {
                let s = X[s.idx()];
                match op {
                    Add => dynasm!(self.ops ; .arch x64 ; add Rq(d), Rq(s)),
                    Sub => dynasm!(self.ops ; .arch x64 ; sub Rq(d), Rq(s)),
                    Mul => dynasm!(self.ops ; .arch x64 ; imul Rq(d), Rq(s)),
                    Or => dynasm!(self.ops ; .arch x64 ; or Rq(d), Rq(s)),
                    And => dynasm!(self.ops ; .arch x64 ; and Rq(d), Rq(s)),
                    Xor => dynasm!(self.ops ; .arch x64 ; xor Rq(d), Rq(s)),
                    Lsh => dynasm!(self.ops ; .arch x64 ; shlx Rq(d), Rq(d), Rq(s)),
                    Rsh => dynasm!(self.ops ; .arch x64 ; shrx Rq(d), Rq(d), Rq(s)),
                    Arsh => dynasm!(self.ops ; .arch x64 ; sarx Rq(d), Rq(d), Rq(s)),
                    Mov => dynasm!(self.ops ; .arch x64 ; mov Rq(d), Rq(s)),
                    MovSx8 => dynasm!(self.ops ; .arch x64 ; movsx Rq(d), Rb(s)),
                    MovSx16 => dynasm!(self.ops ; .arch x64 ; movsx Rq(d), Rw(s)),
                    MovSx32 => dynasm!(self.ops ; .arch x64 ; movsxd Rq(d), Rd(s)),
                    Div | SDiv | Mod | SMod => unreachable!("handled above"),
                }
            }
            (Width::W32, Operand::Imm(k)) => match op {
                Add => dynasm!(self.ops ; .arch x64 ; add Rd(d), k),
                Sub => dynasm!(self.ops ; .arch x64 ; sub Rd(d), k),
                Mul => dynasm!(self.ops ; .arch x64 ; imul Rd(d), Rd(d), k),
                Or => dynasm!(self.ops ; .arch x64 ; or Rd(d), k),
                And => dynasm!(self.ops ; .arch x64 ; and Rd(d), k),
                Xor => dynasm!(self.ops ; .arch x64 ; xor Rd(d), k),
                // A 32-bit shift by 0 must still zero the upper half: `mov` does that.
                Lsh | Rsh | Arsh if k & 31 == 0 => dynasm!(self.ops ; .arch x64 ; mov Rd(d), Rd(d)),
                Lsh => dynasm!(self.ops ; .arch x64 ; shl Rd(d), (k & 31) as i8),
                Rsh => dynasm!(self.ops ; .arch x64 ; shr Rd(d), (k & 31) as i8),
                Arsh => dynasm!(self.ops ; .arch x64 ; sar Rd(d), (k & 31) as i8),
                _ => dynasm!(self.ops ; .arch x64 ; mov Rd(d), k),
            },
            (Width::W32, Operand::Reg(s)) => {
                let s = X[s.idx()];
                match op {
                    Add => dynasm!(self.ops ; .arch x64 ; add Rd(d), Rd(s)),
                    Sub => dynasm!(self.ops ; .arch x64 ; sub Rd(d), Rd(s)),
                    Mul => dynasm!(self.ops ; .arch x64 ; imul Rd(d), Rd(s)),
                    Or => dynasm!(self.ops ; .arch x64 ; or Rd(d), Rd(s)),
                    And => dynasm!(self.ops ; .arch x64 ; and Rd(d), Rd(s)),
                    Xor => dynasm!(self.ops ; .arch x64 ; xor Rd(d), Rd(s)),
                    Lsh => dynasm!(self.ops ; .arch x64 ; shlx Rd(d), Rd(d), Rd(s)),
                    Rsh => dynasm!(self.ops ; .arch x64 ; shrx Rd(d), Rd(d), Rd(s)),
                    Arsh => dynasm!(self.ops ; .arch x64 ; sarx Rd(d), Rd(d), Rd(s)),
                    // ALU32 movsx from 32 bits is a plain 32-bit move.
                    Mov | MovSx32 => dynasm!(self.ops ; .arch x64 ; mov Rd(d), Rd(s)),
                    MovSx8 => dynasm!(self.ops ; .arch x64 ; movsx Rd(d), Rb(s)),
                    MovSx16 => dynasm!(self.ops ; .arch x64 ; movsx Rd(d), Rw(s)),
                    Div | SDiv | Mod | SMod => unreachable!("handled above"),
                }
            }
        }
    }

    /// `dst op= k` (add, sub, mul, or, and, xor) with an 8-bit immediate, encoded by hand for
    /// both widths: `83 /digit ib` (`6b /r ib` for imul), REX.W for 64 bits.
    fn alu_imm8(&mut self, w64: bool, op: BinOp, d: u8, k: i8) {
        let high = d >> 3;
        let rex = 0x40 | u8::from(w64) << 3;
        let (rex, opcode, reg) = match op {
            BinOp::Mul => (rex | high << 2 | high, 0x6b, d & 7),
            BinOp::Add => (rex | high, 0x83, 0),
            BinOp::Or => (rex | high, 0x83, 1),
            BinOp::And => (rex | high, 0x83, 4),
            BinOp::Sub => (rex | high, 0x83, 5),
            _ => (rex | high, 0x83, 6), // xor: the callers admit no other operation
        };
        self.ops.extend(&[rex, opcode, 0xc0 | reg << 3 | (d & 7), k as u8]);
    }

    /// Division and modulo with the kernel's rules: by zero, `/` gives 0 and `%` keeps dst
    /// (its low half, zero-extended, in ALU32); signed by -1 never reaches `idiv` (which traps
    /// on `INT_MIN / -1`): `/` negates and `%` gives 0.
    fn div(&mut self, w64: bool, op: BinOp, d: u8, src: Operand) {
        let signed = matches!(op, BinOp::SDiv | BinOp::SMod);
        let quotient = matches!(op, BinOp::Div | BinOp::SDiv);
        match src {
            Operand::Imm(0) => return self.div_by_zero(w64, quotient, d),
            Operand::Imm(-1) if signed => return self.div_by_minus1(w64, quotient, d),
            Operand::Imm(k) if w64 => dynasm!(self.ops ; .arch x64 ; mov r11, QWORD k as i64),
            Operand::Imm(k) => dynasm!(self.ops ; .arch x64 ; mov r11d, k),
            Operand::Reg(s) => {
                let s = X[s.idx()];
                dynasm!(self.ops ; .arch x64 ; mov r11, Rq(s));
            }
        }
        let dynamic = matches!(src, Operand::Reg(_));
        let (zero, minus1, done) =
            (self.ops.new_dynamic_label(), self.ops.new_dynamic_label(), self.ops.new_dynamic_label());
        if dynamic {
            if w64 {
                dynasm!(self.ops ; .arch x64 ; test r11, r11 ; jz =>zero);
                if signed {
                    dynasm!(self.ops ; .arch x64 ; cmp r11, -1 ; je =>minus1);
                }
            } else {
                dynasm!(self.ops ; .arch x64 ; test r11d, r11d ; jz =>zero);
                if signed {
                    dynasm!(self.ops ; .arch x64 ; cmp r11d, -1 ; je =>minus1);
                }
            }
        }
        dynasm!(self.ops ; .arch x64 ; mov r10, rax ; mov [r12 + TMP], rdx ; mov rax, Rq(d));
        match (w64, signed) {
            (true, false) => dynasm!(self.ops ; .arch x64 ; xor edx, edx ; div r11),
            (true, true) => dynasm!(self.ops ; .arch x64 ; cqo ; idiv r11),
            (false, false) => dynasm!(self.ops ; .arch x64 ; xor edx, edx ; div r11d),
            (false, true) => dynasm!(self.ops ; .arch x64 ; cdq ; idiv r11d),
        }
        match (w64, quotient) {
            (true, true) => dynasm!(self.ops ; .arch x64 ; mov r11, rax),
            (true, false) => dynasm!(self.ops ; .arch x64 ; mov r11, rdx),
            (false, true) => dynasm!(self.ops ; .arch x64 ; mov r11d, eax),
            (false, false) => dynasm!(self.ops ; .arch x64 ; mov r11d, edx),
        }
        dynasm!(self.ops ; .arch x64 ; mov rax, r10 ; mov rdx, [r12 + TMP] ; mov Rq(d), r11);
        if dynamic {
            dynasm!(self.ops ; .arch x64 ; jmp =>done ; =>zero);
            self.div_by_zero(w64, quotient, d);
            dynasm!(self.ops ; .arch x64 ; jmp =>done ; =>minus1);
            if signed {
                self.div_by_minus1(w64, quotient, d);
            }
            dynasm!(self.ops ; .arch x64 ; =>done);
        }
    }

    fn div_by_zero(&mut self, w64: bool, quotient: bool, d: u8) {
        match (quotient, w64) {
            (true, _) => dynasm!(self.ops ; .arch x64 ; xor Rd(d), Rd(d)),
            (false, true) => {}
            (false, false) => dynasm!(self.ops ; .arch x64 ; mov Rd(d), Rd(d)),
        }
    }

    fn div_by_minus1(&mut self, w64: bool, quotient: bool, d: u8) {
        match (quotient, w64) {
            (true, true) => dynasm!(self.ops ; .arch x64 ; neg Rq(d)),
            (true, false) => dynasm!(self.ops ; .arch x64 ; neg Rd(d)),
            (false, _) => dynasm!(self.ops ; .arch x64 ; xor Rd(d), Rd(d)),
        }
    }

    /// `le`/`be`/`bswap` on a little-endian host: `le` truncates, the others swap the low
    /// `bits` and zero the rest.
    fn endian(&mut self, op: EndianOp, bits: u32, d: u8) {
        match (op, bits) {
            (EndianOp::ToLe, 16) => dynasm!(self.ops ; .arch x64 ; movzx Rd(d), Rw(d)),
            (EndianOp::ToLe, 32) => dynasm!(self.ops ; .arch x64 ; mov Rd(d), Rd(d)),
            (EndianOp::ToLe, _) => {}
            (_, 16) => dynasm!(self.ops ; .arch x64 ; ror Rw(d), 8 ; movzx Rd(d), Rw(d)),
            (_, 32) => dynasm!(self.ops ; .arch x64 ; bswap Rd(d)),
            (_, _) => dynasm!(self.ops ; .arch x64 ; bswap Rq(d)),
        }
    }

    fn compare(&mut self, width: Width, cond: JmpCond, d: u8, src: Operand) {
        let test = cond == JmpCond::Set;
        match (width, src, test) {
            // `cmp r, 0` sets the flags every condition reads exactly as `test r, r` does.
            (Width::W64, Operand::Imm(0), false) => dynasm!(self.ops ; .arch x64 ; test Rq(d), Rq(d)),
            (Width::W32, Operand::Imm(0), false) => dynasm!(self.ops ; .arch x64 ; test Rd(d), Rd(d)),
            (Width::W64, Operand::Imm(k), false) if imm8(k) => dynasm!(self.ops ; .arch x64 ; cmp Rq(d), BYTE k),
            (Width::W32, Operand::Imm(k), false) if imm8(k) => dynasm!(self.ops ; .arch x64 ; cmp Rd(d), BYTE k),
            (Width::W64, Operand::Imm(k), false) => dynasm!(self.ops ; .arch x64 ; cmp Rq(d), k),
            (Width::W64, Operand::Imm(k), true) => dynasm!(self.ops ; .arch x64 ; test Rq(d), k),
            (Width::W32, Operand::Imm(k), false) => dynasm!(self.ops ; .arch x64 ; cmp Rd(d), k),
            (Width::W32, Operand::Imm(k), true) => dynasm!(self.ops ; .arch x64 ; test Rd(d), k),
            (Width::W64, Operand::Reg(s), false) => dynasm!(self.ops ; .arch x64 ; cmp Rq(d), Rq(X[s.idx()])),
            (Width::W64, Operand::Reg(s), true) => dynasm!(self.ops ; .arch x64 ; test Rq(d), Rq(X[s.idx()])),
            (Width::W32, Operand::Reg(s), false) => dynasm!(self.ops ; .arch x64 ; cmp Rd(d), Rd(X[s.idx()])),
            (Width::W32, Operand::Reg(s), true) => dynasm!(self.ops ; .arch x64 ; test Rd(d), Rd(X[s.idx()])),
        }
    }

    /// A jump from instruction `i` to `t` (`cond` tests the flags just set; `None` always
    /// jumps; a backward jump is always unconditional, see [`Gen::back_edge`]). A back-edge
    /// charges the loop's span to the budget: the subtract and the jump back fuse, the raise
    /// is out of line.
    fn jump(&mut self, cond: Option<JmpCond>, i: usize, t: usize) {
        if t > i {
            let target = self.label(t);
            return self.jcc(cond, target);
        }
        debug_assert!(cond.is_none(), "conditional back-edges go through back_edge");
        let raise = self.ops.new_dynamic_label();
        self.stubs.push(Stub::Raise { label: raise, code: RAISE_BUDGET, idx: i });
        self.charge((i - t + 1) as i32, false);
        // jae: no borrow, the budget covered the span.
        self.jcc_at(0x3, self.offsets[t]);
        dynasm!(self.ops ; .arch x64 ; jmp =>raise);
    }

    /// A conditional back-edge from instruction `i` to `t`. The loop's span is charged before
    /// the compare and given back on the way out, so a taken back-edge is a fused
    /// subtract-and-branch plus a fused compare-and-branch; the budget is charged exactly as
    /// in [`Gen::jump`] (only when taken).
    fn back_edge(&mut self, width: Width, cond: JmpCond, d: u8, src: Operand, i: usize, t: usize) {
        let span = (i - t + 1) as i32;
        let label = self.ops.new_dynamic_label();
        self.charge(span, false);
        dynasm!(self.ops ; .arch x64 ; jb =>label);
        self.compare(width, cond, d, src);
        self.jcc_at(cc(cond), self.offsets[t]);
        self.charge(span, true);
        let next = self.ops.offset().0;
        self.stubs.push(Stub::BackEdge { label, width, cond, d, src, span, idx: i, next });
    }

    /// Pads with no-ops (the fewest, multi-byte ones) to a multiple of `to` bytes.
    fn align(&mut self, to: usize) {
        const NOPS: [&[u8]; 9] = [
            &[0x90],
            &[0x66, 0x90],
            &[0x0f, 0x1f, 0x00],
            &[0x0f, 0x1f, 0x40, 0x00],
            &[0x0f, 0x1f, 0x44, 0x00, 0x00],
            &[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00],
            &[0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00],
            &[0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
            &[0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00],
        ];
        let mut pad = (to - self.ops.offset().0 % to) % to;
        while pad > 0 {
            let n = pad.min(NOPS.len());
            self.ops.extend(NOPS[n - 1]);
            pad -= n;
        }
    }

    /// `neg`, 64 or 32 bits.
    fn neg(&mut self, width: Width, d: u8) {
        match width {
            Width::W64 => dynasm!(self.ops ; .arch x64 ; neg Rq(d)),
            Width::W32 => dynasm!(self.ops ; .arch x64 ; neg Rd(d)),
        }
    }

    /// The guard on the way into counted loop `l` (falling through from the instruction before
    /// its head): when the counter starts below the bound, the budget covers the most
    /// iterations there can be, and each access's first and last addresses lie in its window,
    /// no check in the loop can fail, so the unchecked copy runs, with r10 (r11) holding host
    /// minus virtual address of the data (stack) window. Otherwise the checked loop runs.
    fn loop_guard(&mut self, l: CountedLoop, body: Vec<(Insn, Option<usize>)>) {
        let checked = self.label(l.head);
        let fast = self.ops.new_dynamic_label();
        self.loops.push(LoopCode { head: l.head, back: l.back, guard: self.ops.offset().0, copy: 0 });
        let (i, bound, span) = (X[l.counter.idx()], l.bound, (l.back - l.head + 1) as i32);
        dynasm!(self.ops ; .arch x64
            ; cmp Rq(i), bound ; jae =>checked
            ; mov r10d, bound ; sub r10, Rq(i) ; imul r10, r10, span ; cmp r9, r10 ; jb =>checked
        );
        // A window that misses may just not be cached yet (the stack's, before the first stack
        // access of a run): up to two probes (one per window) ask `Memory` for the region of
        // the failing access's first address, then the checks run again.
        let (retry, probes) = (self.ops.new_dynamic_label(), self.ops.new_dynamic_label());
        if !l.accesses.is_empty() {
            dynasm!(self.ops ; .arch x64 ; mov QWORD [r12 + TMP], 2 ; =>retry);
        }
        let mut misses = Vec::with_capacity(l.accesses.len());
        for a in &l.accesses {
            let miss = self.ops.new_dynamic_label();
            misses.push(miss);
            let at = HOT + HOT_SIZE * i32::from(a.stack());
            let lim = at + HOT_LIM + 8 * (class(a.size) + if a.write { 4 } else { 0 });
            self.first_address(11, a, i);
            dynasm!(self.ops ; .arch x64 ; sub r11, [r12 + at + HOT_BASE]);
            if a.counted {
                // The last iteration's address, relative to the window: no carry, so also
                // the first's and every one between.
                dynasm!(self.ops ; .arch x64
                    ; mov r10d, bound - 1 ; sub r10, Rq(i) ; add r11, r10 ; jc =>miss
                );
            }
            dynasm!(self.ops ; .arch x64 ; cmp r11, [r12 + lim] ; jae =>miss);
        }
        if l.accesses.iter().any(|a| !a.stack()) {
            dynasm!(self.ops ; .arch x64 ; mov r10, [r12 + HOT + HOT_HOST] ; sub r10, [r12 + HOT + HOT_BASE]);
        }
        if l.accesses.iter().any(LoopAccess::stack) {
            dynasm!(self.ops ; .arch x64
                ; mov r11, [r12 + HOT + HOT_SIZE + HOT_HOST] ; sub r11, [r12 + HOT + HOT_SIZE + HOT_BASE]
            );
        }
        if l.charge_at_exit() {
            dynasm!(self.ops ; .arch x64 ; mov [r12 + TMP], Rq(i));
        }
        dynasm!(self.ops ; .arch x64 ; jmp =>fast);
        for (a, miss) in l.accesses.iter().zip(misses) {
            dynasm!(self.ops ; .arch x64 ; =>miss);
            self.first_address(10, a, i);
            let kind = if a.write { KIND_WRITE } else { KIND_READ };
            let info = (a.size.bytes() as u64 | kind << INFO_KIND_SHIFT) as i32;
            dynasm!(self.ops ; .arch x64 ; mov r11d, info ; jmp =>probes);
        }
        if !l.accesses.is_empty() {
            let probe = self.probe;
            dynasm!(self.ops ; .arch x64
                ; =>probes
                ; sub QWORD [r12 + TMP], 1 ; jb =>checked
                ; call =>probe
                ; jmp =>retry
            );
            self.probes = true;
        }
        self.stubs.push(Stub::Loop(Box::new(LoopStub { fast, l, body })));
    }

    /// Register `into` = the first address loop access `a` touches (the counter, in x86
    /// register `i`, holding its value at the loop's entry).
    fn first_address(&mut self, into: u8, a: &LoopAccess, i: u8) {
        let k = a.k;
        match (a.inv, a.counted) {
            (Some(r), true) => dynasm!(self.ops ; .arch x64 ; lea Rq(into), [Rq(X[r.idx()]) + Rq(i) + k]),
            (Some(r), false) => dynasm!(self.ops ; .arch x64 ; lea Rq(into), [Rq(X[r.idx()]) + k]),
            (None, true) => dynasm!(self.ops ; .arch x64 ; lea Rq(into), [Rq(i) + k]),
            (None, false) => dynasm!(self.ops ; .arch x64 ; mov Rq(into), QWORD k as i64),
        }
    }

    /// The unchecked copy of counted loop `l`, out of line: the same instructions, accesses
    /// translated by r10 (data) or r11 (stack) without a check, the budget charged at the
    /// back-edge without one (the guard covered it), jumps out of the loop to the checked code
    /// of their targets.
    fn fast_loop(&mut self, fast: DynamicLabel, l: &CountedLoop, body: &[(Insn, Option<usize>)]) {
        // The loop starts a cache line (the bytes before it never run: every stub ends in a
        // jump), so a short body is fetched and cached as one piece.
        while !self.ops.offset().0.is_multiple_of(64) {
            self.ops.push(0xcc);
        }
        dynasm!(self.ops ; .arch x64 ; =>fast);
        let top = self.ops.offset().0;
        if let Some(code) = self.loops.iter_mut().find(|c| c.head == l.head) {
            code.copy = top;
        }
        let mut accesses = l.accesses.iter();
        let span = (l.back - l.head + 1) as i32;
        let at_exit = l.charge_at_exit();
        // Side exits that settle the budget on the way out: (label, counter offset, target).
        let mut exits = Vec::new();
        // Labels of the body's instructions that inner jumps land on (`if` inside the loop).
        let inner = |t: Option<usize>| t.filter(|&t| t > l.head && t <= l.back).map(|t| t - l.head);
        let mut labels: Vec<Option<DynamicLabel>> = vec![None; body.len()];
        for &(_, t) in body {
            if let Some(t) = inner(t) {
                labels[t].get_or_insert_with(|| self.ops.new_dynamic_label());
            }
        }
        for (j, &(insn, t)) in body.iter().enumerate() {
            if let Some(label) = labels[j] {
                dynasm!(self.ops ; .arch x64 ; =>label);
            }
            let k = l.counter_at[j].unwrap_or(0);
            // A jump within the body, forwards.
            if let Some(label) = inner(t).and_then(|t| labels[t]) {
                match insn {
                    Insn::Jmp { width, cond, dst, src, .. } => {
                        self.compare(width, cond, X[dst.idx()], src);
                        self.jcc(Some(cond), label);
                    }
                    _ => self.jcc(None, label),
                }
                continue;
            }
            match insn {
                Insn::Bin { width, op, dst, src } => self.bin(width, op, X[dst.idx()], src),
                Insn::Neg { width, dst } => self.neg(width, X[dst.idx()]),
                Insn::Endian { op, bits, dst } => self.endian(op, bits, X[dst.idx()]),
                Insn::LoadImm64 { dst, imm, next_imm, .. } => {
                    let d = X[dst.idx()];
                    dynasm!(self.ops ; .arch x64 ; mov Rq(d), QWORD Insn::imm64(imm, next_imm) as i64);
                }
                Insn::Load { size, signed, dst, src, off } => {
                    let w = if accesses.next().is_some_and(LoopAccess::stack) { 11 } else { 10 };
                    let (d, b, off) = (X[dst.idx()], X[src.idx()], off as i32);
                    match (size, signed) {
                        (Size::B, false) => dynasm!(self.ops ; .arch x64 ; movzx Rd(d), BYTE [Rq(b) + Rq(w) + off]),
                        (Size::H, false) => dynasm!(self.ops ; .arch x64 ; movzx Rd(d), WORD [Rq(b) + Rq(w) + off]),
                        (Size::W, false) => dynasm!(self.ops ; .arch x64 ; mov Rd(d), DWORD [Rq(b) + Rq(w) + off]),
                        (Size::DW, _) => dynasm!(self.ops ; .arch x64 ; mov Rq(d), QWORD [Rq(b) + Rq(w) + off]),
                        (Size::B, true) => dynasm!(self.ops ; .arch x64 ; movsx Rq(d), BYTE [Rq(b) + Rq(w) + off]),
                        (Size::H, true) => dynasm!(self.ops ; .arch x64 ; movsx Rq(d), WORD [Rq(b) + Rq(w) + off]),
                        (Size::W, true) => dynasm!(self.ops ; .arch x64 ; movsxd Rq(d), DWORD [Rq(b) + Rq(w) + off]),
                    }
                }
                Insn::Store { size, dst, off, src } => {
                    let w = if accesses.next().is_some_and(LoopAccess::stack) { 11 } else { 10 };
                    let (b, off) = (X[dst.idx()], off as i32);
                    match src {
                        Operand::Imm(k) => match size {
                            Size::B => dynasm!(self.ops ; .arch x64 ; mov BYTE [Rq(b) + Rq(w) + off], k as i8),
                            Size::H => dynasm!(self.ops ; .arch x64 ; mov WORD [Rq(b) + Rq(w) + off], k as i16),
                            Size::W => dynasm!(self.ops ; .arch x64 ; mov DWORD [Rq(b) + Rq(w) + off], k),
                            Size::DW => dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(b) + Rq(w) + off], k),
                        },
                        Operand::Reg(s) => {
                            let s = X[s.idx()];
                            match size {
                                Size::B => dynasm!(self.ops ; .arch x64 ; mov BYTE [Rq(b) + Rq(w) + off], Rb(s)),
                                Size::H => dynasm!(self.ops ; .arch x64 ; mov WORD [Rq(b) + Rq(w) + off], Rw(s)),
                                Size::W => dynasm!(self.ops ; .arch x64 ; mov DWORD [Rq(b) + Rq(w) + off], Rd(s)),
                                Size::DW => dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(b) + Rq(w) + off], Rq(s)),
                            }
                        }
                    }
                }
                // The back-edge.
                Insn::Jmp { width, cond, dst, src, .. } if t == Some(l.head) => {
                    if !at_exit {
                        self.charge(span, false);
                    }
                    self.compare(width, cond, X[dst.idx()], src);
                    self.jcc_at(cc(cond), top);
                    if at_exit {
                        self.settle_budget(l, k);
                    } else {
                        self.charge(span, true);
                    }
                    self.rel32(0xe9, self.offsets[l.back + 1]);
                }
                // Out of the loop (forwards: every instruction has its code by now).
                Insn::Jmp { width, cond, dst, src, .. } => {
                    self.compare(width, cond, X[dst.idx()], src);
                    let to = self.offsets[t.unwrap_or(l.back + 1)];
                    if at_exit {
                        let label = self.ops.new_dynamic_label();
                        self.jcc(Some(cond), label);
                        exits.push((label, k, to));
                    } else {
                        self.jcc_at(cc(cond), to);
                    }
                }
                Insn::Ja { .. } => {
                    if at_exit {
                        self.settle_budget(l, k);
                    }
                    self.rel32(0xe9, self.offsets[t.unwrap_or(l.back + 1)]);
                }
                _ => unreachable!("loops::counted_loop admits no other instruction"),
            }
        }
        for (label, k, to) in exits {
            dynasm!(self.ops ; .arch x64 ; =>label);
            self.settle_budget(l, k);
            self.rel32(0xe9, to);
        }
    }

    /// On the way out of counted loop `l`'s unchecked copy with the counter `k` past its
    /// iteration's start: charges the back-edges taken, `(counter - k - i0) / step` (`i0` in
    /// the context's scratch slot), as the checked loop would have one by one.
    fn settle_budget(&mut self, l: &CountedLoop, k: i32) {
        let (i, span) = (X[l.counter.idx()], (l.back - l.head + 1) as i32);
        dynasm!(self.ops ; .arch x64 ; mov r10, Rq(i) ; sub r10, [r12 + TMP]);
        if k != 0 {
            dynasm!(self.ops ; .arch x64 ; sub r10, k);
        }
        if l.step > 1 {
            dynasm!(self.ops ; .arch x64 ; shr r10, l.step.trailing_zeros() as i8);
        }
        dynasm!(self.ops ; .arch x64 ; imul r10, r10, span ; sub r9, r10);
    }

    /// `jcc` to `l` on `cond`, `jmp` for `None`.
    fn jcc(&mut self, cond: Option<JmpCond>, l: DynamicLabel) {
        use JmpCond::*;
        let Some(cond) = cond else {
            return dynasm!(self.ops ; .arch x64 ; jmp =>l);
        };
        match cond {
            Eq => dynasm!(self.ops ; .arch x64 ; je =>l),
            Ne | Set => dynasm!(self.ops ; .arch x64 ; jne =>l),
            Gt => dynasm!(self.ops ; .arch x64 ; ja =>l),
            Ge => dynasm!(self.ops ; .arch x64 ; jae =>l),
            Lt => dynasm!(self.ops ; .arch x64 ; jb =>l),
            Le => dynasm!(self.ops ; .arch x64 ; jbe =>l),
            Sgt => dynasm!(self.ops ; .arch x64 ; jg =>l),
            Sge => dynasm!(self.ops ; .arch x64 ; jge =>l),
            Slt => dynasm!(self.ops ; .arch x64 ; jl =>l),
            Sle => dynasm!(self.ops ; .arch x64 ; jle =>l),
        }
    }

    /// A new access site: a `size` access of `kind` at instruction `idx`, whose first window
    /// compares against the limit at `lim` in the context (see `INFO_*`).
    fn new_site(&mut self, size: Size, kind: u64, lim: i32, idx: usize) -> u32 {
        let info = size.bytes() as u64
            | kind << INFO_KIND_SHIFT
            | (lim as u64) << INFO_LIM_SHIFT
            | (self.sites as u64) << INFO_SITE_SHIFT
            | (idx as u64) << INFO_IDX_SHIFT;
        self.site_info.push(info);
        self.sites += 1;
        self.sites as u32 - 1
    }

    /// Follows which registers hold the context pointer (see `Gen::ctx_regs`) past `insn`.
    fn track_ctx(&mut self, insn: &Insn) {
        let c = &mut self.ctx_regs;
        match *insn {
            Insn::Bin { width: Width::W64, op: BinOp::Mov, dst, src: Operand::Reg(s) } => c[dst.idx()] = c[s.idx()],
            Insn::Bin { width: Width::W64, op: BinOp::Add, dst, src: Operand::Imm(k) } => {
                c[dst.idx()] = c[dst.idx()].map(|o| o + k as i64)
            }
            Insn::Bin { width: Width::W64, op: BinOp::Sub, dst, src: Operand::Imm(k) } => {
                c[dst.idx()] = c[dst.idx()].map(|o| o - k as i64)
            }
            // Calls clobber r0-r5; after an exit, the next instruction is reached by jumps only.
            Insn::Call(_) | Insn::Callx { .. } => c[..6].fill(None),
            Insn::Exit => *c = [None; 11],
            _ => {
                if let Some(r) = insn.written_reg() {
                    c[r.idx()] = None;
                }
                if let Insn::Atomic { op: AtomicOp::CmpXchg, .. } = insn {
                    c[0] = None;
                }
            }
        }
    }

    /// Whether the context's layout lets a program read `size` bytes at offset `o` (whatever
    /// else holds: the layout's rules depend on nothing else).
    fn ctx_readable(&self, o: i64, size: Size) -> bool {
        self.ctx_layout
            .is_some_and(|l| CTX_REACH_STATIC.contains(&o) && l.check_access(o, size.bytes() as u32, false).is_ok())
    }

    /// A read the layout allows at offset `o` of the context, through a register guessed to
    /// hold `CTX_BASE + o - off`: checked inline against that address and the context's
    /// length, then read from the context's host copy, with no window and no callout. A wrong
    /// guess (or a short context) takes the data window's slow path, as any access would.
    fn ctx_read(&mut self, base: u8, off: i16, o: i64, size: Size, idx: usize) {
        let site = self.new_site(size, KIND_READ, HOT_LIM + 8 * class(size), idx);
        let (at, end) = ((CTX_BASE as i64 + o) as i32, (o + size.bytes() as i64) as i32);
        dynasm!(self.ops ; .arch x64 ; lea r11, [Rq(base) + off as i32] ; cmp r11, at);
        let ne_at = self.ops.offset().0 + 2;
        self.ops.extend(&[0x0f, 0x85, 0, 0, 0, 0]);
        dynasm!(self.ops ; .arch x64 ; cmp QWORD [r12 + CTX_LEN], end);
        let jb_at = self.ops.offset().0 + 2;
        self.ops.extend(&[0x0f, 0x82, 0, 0, 0, 0]);
        dynasm!(self.ops ; .arch x64 ; mov r11, [r12 + CTX_HOST]);
        if o != 0 {
            dynasm!(self.ops ; .arch x64 ; lea r11, [r11 + o as i32]);
        }
        let back = self.ops.offset().0;
        self.stubs.push(Stub::CtxMiss { jumps: [ne_at, jb_at], back, site });
    }

    /// Computes the host address of a `size` access at `[base + off]` into r11, checked: the
    /// first window inline (the stack's for accesses through r10, else the data region's), the
    /// rest out of line.
    fn access(&mut self, base: u8, off: i16, size: Size, kind: u64, idx: usize) {
        match self.proofs.get(idx).copied().unwrap_or(AccessProof::Unproven) {
            AccessProof::Unproven => {}
            AccessProof::OwnStack => {
                self.unchecked_stack_writes |= kind != KIND_READ;
                dynasm!(self.ops ; .arch x64 ; mov r11, [r12 + FP_HOST]);
                if base != X[10] {
                    dynasm!(self.ops ; .arch x64 ; sub r11, rbp ; add r11, Rq(base));
                }
                return dynasm!(self.ops ; .arch x64 ; lea r11, [r11 + off as i32]);
            }
            AccessProof::Packet => {
                return dynasm!(self.ops ; .arch x64
                    ; mov r11, [r12 + PKT_DELTA]
                    ; lea r11, [r11 + Rq(base) + off as i32]
                );
            }
        }
        let c = class(size);
        let lim = HOT_LIM + 8 * if kind == KIND_READ { c } else { 4 + c };
        let (first, second): (i32, usize) = if base == X[10] { (1, 0) } else { (0, 1) };
        let at = HOT + first * HOT_SIZE;
        let site = self.new_site(size, kind, lim, idx);
        // The window's base and host sit within a short (8-bit) displacement of r12.
        const _: () = assert!(HOT == 0 && HOT_BASE == 0 && HOT_HOST == 8 && HOT_SIZE == 80);
        // One copy of hand-encoded bytes, not a push per byte: this runs per access, and
        // emitting bytes is where compile time goes.
        //   lea r11, [base + off]            4c|B 8d 9c 20|base disp32
        //   sub r11, [r12 + win.base]        4d 2b 5c 24 disp8
        //   cmp r11, [r12 + win.lim]         4d 3b 9c 24 disp32
        //   jae stub                         0f 83 rel32 (filled in by `patch`)
        //   add r11, [r12 + win.host]        4d 03 5c 24 disp8
        let (win, lim) = (first * HOT_SIZE, at + lim);
        let mut code = [
            0x4c | (base >> 3),
            0x8d,
            0x9c,
            0x20 | (base & 7),
            0,
            0,
            0,
            0,
            0x4d,
            0x2b,
            0x5c,
            0x24,
            (win + HOT_BASE) as u8,
            0x4d,
            0x3b,
            0x9c,
            0x24,
            0,
            0,
            0,
            0,
            0x0f,
            0x83,
            0,
            0,
            0,
            0,
            0x4d,
            0x03,
            0x5c,
            0x24,
            (win + HOT_HOST) as u8,
        ];
        code[4..8].copy_from_slice(&(off as i32).to_le_bytes());
        code[17..21].copy_from_slice(&lim.to_le_bytes());
        let jae_at = self.ops.offset().0 + 23;
        self.ops.extend(&code);
        let back = self.ops.offset().0;
        self.stubs.push(Stub::Slow { jae_at, back, second, site });
    }

    /// An atomic on `[r11]` with the kernel's register effects: fetch forms return the old
    /// value in `src`, cmpxchg compares with and returns into r0, 32-bit forms zero-extend.
    fn atomic(&mut self, w64: bool, op: AtomicOp, fetch: bool, s: u8) {
        match (op, fetch, w64) {
            (AtomicOp::Add, false, true) => dynasm!(self.ops ; .arch x64 ; lock add [r11], Rq(s)),
            (AtomicOp::Add, false, false) => dynasm!(self.ops ; .arch x64 ; lock add [r11], Rd(s)),
            (AtomicOp::Or, false, true) => dynasm!(self.ops ; .arch x64 ; lock or [r11], Rq(s)),
            (AtomicOp::Or, false, false) => dynasm!(self.ops ; .arch x64 ; lock or [r11], Rd(s)),
            (AtomicOp::And, false, true) => dynasm!(self.ops ; .arch x64 ; lock and [r11], Rq(s)),
            (AtomicOp::And, false, false) => dynasm!(self.ops ; .arch x64 ; lock and [r11], Rd(s)),
            (AtomicOp::Xor, false, true) => dynasm!(self.ops ; .arch x64 ; lock xor [r11], Rq(s)),
            (AtomicOp::Xor, false, false) => dynasm!(self.ops ; .arch x64 ; lock xor [r11], Rd(s)),
            (AtomicOp::Add, true, true) => dynasm!(self.ops ; .arch x64 ; lock xadd [r11], Rq(s)),
            (AtomicOp::Add, true, false) => dynasm!(self.ops ; .arch x64 ; lock xadd [r11], Rd(s)),
            (AtomicOp::Xchg, _, true) => dynasm!(self.ops ; .arch x64 ; xchg [r11], Rq(s)),
            (AtomicOp::Xchg, _, false) => dynasm!(self.ops ; .arch x64 ; xchg [r11], Rd(s)),
            (AtomicOp::CmpXchg, _, true) => dynasm!(self.ops ; .arch x64 ; lock cmpxchg [r11], Rq(s)),
            (AtomicOp::CmpXchg, _, false) => dynasm!(self.ops ; .arch x64 ; lock cmpxchg [r11], Rd(s) ; mov eax, eax),
            (AtomicOp::Or | AtomicOp::And | AtomicOp::Xor, true, _) => {
                // A compare-exchange loop; r0 (rax) is parked in the context meanwhile.
                dynasm!(self.ops ; .arch x64 ; mov [r12 + TMP], Rq(s) ; mov [r12 + REGS], rax);
                if w64 {
                    dynasm!(self.ops ; .arch x64 ; mov rax, [r11] ; again: ; mov r10, rax);
                } else {
                    dynasm!(self.ops ; .arch x64 ; mov eax, [r11] ; again: ; mov r10d, eax);
                }
                match op {
                    AtomicOp::Or => dynasm!(self.ops ; .arch x64 ; or r10, [r12 + TMP]),
                    AtomicOp::And => dynasm!(self.ops ; .arch x64 ; and r10, [r12 + TMP]),
                    _ => dynasm!(self.ops ; .arch x64 ; xor r10, [r12 + TMP]),
                }
                if w64 {
                    dynasm!(self.ops ; .arch x64 ; lock cmpxchg [r11], r10 ; jne <again ; mov r10, rax);
                } else {
                    dynasm!(self.ops ; .arch x64 ; lock cmpxchg [r11], r10d ; jne <again ; mov r10d, eax);
                }
                dynasm!(self.ops ; .arch x64 ; mov rax, [r12 + REGS] ; mov Rq(s), r10);
            }
        }
    }

    /// A helper call: `id` known, or taken from register `x` (`callx`).
    fn helper(&mut self, id: Option<i64>, x: u8, idx: usize) {
        if id.is_none() {
            dynasm!(self.ops ; .arch x64 ; mov r10, Rq(x));
        }
        self.spill_args();
        if id.is_none_or(|id| id == BPF_FUNC_TAIL_CALL as i64) {
            // A tail call's target starts with this frame's r6-r10.
            dynasm!(self.ops ; .arch x64
                ; mov [r12 + REGS + 48], rbx ; mov [r12 + REGS + 56], r13 ; mov [r12 + REGS + 64], r14
                ; mov [r12 + REGS + 72], r15 ; mov [r12 + REGS + 80], rbp
            );
        }
        match id {
            Some(id) => dynasm!(self.ops ; .arch x64 ; mov rsi, QWORD id),
            None => dynasm!(self.ops ; .arch x64 ; mov rsi, r10),
        }
        dynasm!(self.ops ; .arch x64 ; mov rdx, QWORD idx as i64);
        self.callout(jit_helper as *const () as u64);
        let f = self.flagged;
        dynasm!(self.ops ; .arch x64 ; cmp QWORD [r12 + FLAG], 0 ; jne =>f);
        self.reload_args();
    }

    /// `BPF_LD_ABS` (`ind` = None) or `BPF_LD_IND` (offset `ind + k`, 32-bit): r0 = the packet's
    /// bytes, big endian.
    fn ld_pkt(&mut self, ind: Option<u8>, k: i32, size: Size) {
        match ind {
            Some(s) => dynasm!(self.ops ; .arch x64 ; mov r10d, Rd(s) ; add r10d, k),
            None => dynasm!(self.ops ; .arch x64 ; mov r10d, k),
        }
        self.spill_args();
        dynasm!(self.ops ; .arch x64 ; mov rsi, r10 ; mov rdx, QWORD size.bytes() as i64);
        self.callout(jit_ld_pkt as *const () as u64);
        let f = self.flagged;
        dynasm!(self.ops ; .arch x64 ; cmp QWORD [r12 + FLAG], 0 ; jne =>f);
        self.reload_args();
    }

    /// A bpf-to-bpf call: a native call with the caller's r6–r9 saved on the native stack and a
    /// fresh frame pointer; at most `MAX_CALL_FRAMES` frames.
    fn local_call(&mut self, i: usize, t: usize) {
        self.calls = true;
        let depth = self.ops.new_dynamic_label();
        self.stubs.push(Stub::Raise { label: depth, code: RAISE_DEPTH, idx: i });
        let budget = self.ops.new_dynamic_label();
        self.stubs.push(Stub::Raise { label: budget, code: RAISE_BUDGET, idx: i });
        dynasm!(self.ops ; .arch x64
            ; cmp QWORD [r12 + DEPTH], (MAX_CALL_FRAMES - 1) as i32
            ; jae =>depth
            ; sub r9, 1
            ; jb =>budget
            ; push rbx ; push r13 ; push r14 ; push r15
            ; add QWORD [r12 + DEPTH], 1
            ; add QWORD [r12 + FP_HOST], STACK_SIZE as i32
            ; mov rbp, [r12 + DEPTH]
            ; shl rbp, STACK_STRIDE.trailing_zeros() as i8
            ; add rbp, FP0
        );
        self.goto(true, t);
        dynasm!(self.ops ; .arch x64
            ; pop r15 ; pop r14 ; pop r13 ; pop rbx
            ; sub QWORD [r12 + DEPTH], 1
            ; sub QWORD [r12 + FP_HOST], STACK_SIZE as i32
            ; mov rbp, [r12 + DEPTH]
            ; shl rbp, STACK_STRIDE.trailing_zeros() as i8
            ; add rbp, FP0
        );
    }

    /// The out-of-line code: the shared miss paths and slow path, then the per-site stubs
    /// (which call them backwards, encoded by hand).
    fn stubs(&mut self) {
        if self.probes {
            // probe: first address in r10, size and kind in r11 -> the window of its region
            // cached, if it has one; keeps every eBPF register.
            let probe = self.probe;
            dynasm!(self.ops ; .arch x64 ; =>probe ; mov [r12 + REGS], rax);
            self.spill_args();
            dynasm!(self.ops ; .arch x64 ; mov rsi, r10 ; mov rdx, r11);
            self.callout(jit_probe as *const () as u64);
            dynasm!(self.ops ; .arch x64 ; mov rax, [r12 + REGS]);
            self.reload_args();
            dynasm!(self.ops ; .arch x64 ; ret);
        }
        let resolve = self.resolve;
        // resolve: virtual address in r10, info in r11 -> host address in r11 (faults leave
        // through `fault_exit`); keeps every eBPF register.
        let fault = self.fault_exit;
        dynasm!(self.ops ; .arch x64
            ; =>resolve
            ; mov [r12 + REGS], rax
        );
        self.spill_args();
        dynasm!(self.ops ; .arch x64 ; mov rsi, r10 ; mov rdx, r11);
        self.callout(jit_resolve as *const () as u64);
        dynasm!(self.ops ; .arch x64 ; mov r11, rax ; mov rax, [r12 + REGS]);
        self.reload_args();
        dynasm!(self.ops ; .arch x64 ; test r11, r11 ; jz =>fault ; ret);
        // routine[k], called when window 1 - k missed: r11 = the virtual address minus that
        // window's base, r10 = the site -> host address in r11, like resolve. Tries window k,
        // then the site's cached context address, then resolve.
        let mut routine = [0; 2];
        for (k, at_k) in routine.iter_mut().enumerate() {
            let (at, first) = (HOT + k as i32 * HOT_SIZE, HOT + (1 - k as i32) * HOT_SIZE);
            *at_k = self.ops.offset().0;
            dynasm!(self.ops ; .arch x64
                ; add r11, [r12 + first + HOT_BASE]
                ; xchg r10, r11
                ; push r11
                ; push rax
                ; mov rax, [r12 + SITE_INFO]
                ; mov rax, [rax + r11 * 8]
                ; shr rax, INFO_LIM_SHIFT as i8
                ; and eax, 0xff
                ; mov r11, r10
                ; sub r11, [r12 + at + HOT_BASE]
                ; cmp r11, [r12 + rax + at]
                ; pop rax
                ; jae >cached
                ; add r11, [r12 + at + HOT_HOST]
                ; add rsp, 8
                ; ret
                ; cached:
                ; mov r11, [rsp]
                ; push rax
                ; mov rax, [r12 + SITES]
                ; cmp r10, [rax + r11 * 8]
                ; pop rax
                ; jne >slow
                // Only validated context addresses are cached, and never 0: the range check
                // keeps an empty entry from matching a null pointer.
                ; mov r11, r10
                ; sub r11, CTX_BASE as i32
                ; cmp r11, [r12 + CTX_LEN]
                ; jae >slow
                ; add r11, [r12 + CTX_HOST]
                ; add rsp, 8
                ; ret
                ; slow:
                ; pop r11
                ; shl r11, 3
                ; add r11, [r12 + SITE_INFO]
                ; mov r11, [r11]
                ; jmp =>resolve
            );
        }
        for stub in std::mem::take(&mut self.stubs) {
            match stub {
                Stub::Slow { jae_at, back, second, site } => {
                    self.patches.push((jae_at, self.ops.offset().0));
                    dynasm!(self.ops ; .arch x64 ; mov r10d, site as i32);
                    self.rel32(0xe8, routine[second]);
                    self.rel32(0xe9, back);
                }
                Stub::CtxMiss { jumps, back, site } => {
                    for at in jumps {
                        self.patches.push((at, self.ops.offset().0));
                    }
                    // As the data window's miss: r11 relative to its base.
                    dynasm!(self.ops ; .arch x64 ; sub r11, [r12] ; mov r10d, site as i32);
                    self.rel32(0xe8, routine[1]);
                    self.rel32(0xe9, back);
                }
                Stub::Raise { label, code, idx } => {
                    dynasm!(self.ops ; .arch x64 ; =>label);
                    self.raise_inline(code, idx);
                }
                Stub::Loop(lp) => self.fast_loop(lp.fast, &lp.l, &lp.body),
                Stub::BackEdge { label, width, cond, d, src, span, idx, next } => {
                    let raise = self.ops.new_dynamic_label();
                    dynasm!(self.ops ; .arch x64 ; =>label);
                    self.charge(span, true);
                    self.compare(width, cond, d, src);
                    self.jcc(Some(cond), raise);
                    self.rel32(0xe9, next);
                    dynasm!(self.ops ; .arch x64 ; =>raise);
                    self.raise_inline(RAISE_BUDGET, idx);
                }
            }
        }
    }

    /// The entry point and the exits: loads r0–r10 from the context, calls the main function,
    /// stores r0 back. `flagged` sorts out what a callout raised.
    fn prologue(&mut self) -> AssemblyOffset {
        let (flagged, fault) = (self.flagged, self.fault_exit);
        let entry = self.ops.offset();
        dynasm!(self.ops ; .arch x64
            ; push rbp ; push rbx ; push r12 ; push r13 ; push r14 ; push r15
            ; sub rsp, 8
            ; mov r12, rdi
            ; mov QWORD [r12 + FLAG], 0
            ; mov rax, [r12 + REGS] ; mov rbx, [r12 + REGS + 48] ; mov r13, [r12 + REGS + 56]
            ; mov r14, [r12 + REGS + 64] ; mov r15, [r12 + REGS + 72] ; mov rbp, [r12 + REGS + 80]
        );
        self.reload_args();
        dynasm!(self.ops ; .arch x64
            ; mov r9, [r12 + ROOM]
            ; mov [r12 + SAVED_RSP], rsp
        );
        self.goto(true, 0);
        dynasm!(self.ops ; .arch x64
            ; after_main:
            ; mov [r12 + ROOM], r9
            ; mov [r12 + REGS], rax
            ; xor eax, eax
            ; epilogue:
            ; add rsp, 8
            ; pop r15 ; pop r14 ; pop r13 ; pop r12 ; pop rbx ; pop rbp
            ; ret
            ; =>fault
            ; mov rsp, [r12 + SAVED_RSP]
            ; mov eax, 1
            ; jmp <epilogue
            ; =>flagged
            ; mov r10, [r12 + FLAG]
            ; cmp r10, FLAG_RETURN as i32
            ; je >frame_return
            ; cmp r10, 2
            ; je >tail
            ; cmp r10, 3
            ; jne =>fault
            ; mov rsp, [r12 + SAVED_RSP]
            ; xor eax, eax
            ; jmp <after_main
            ; tail:
            // r1-r10 are in the context from the helper call.
            ; mov rsp, [r12 + SAVED_RSP]
            ; mov eax, 2
            ; jmp <epilogue
            ; frame_return:
            // Reached from the helper call in the subprogram's body: its return address is on
            // top, and rax holds the target's r0.
            ; mov QWORD [r12 + FLAG], 0
            ; ret
        );
        entry
    }
}
