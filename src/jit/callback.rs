//! Callbacks in native code: `bpf_loop` and `bpf_for_each_map_elem` call a function of the
//! program from the helper, so Rust calls back into native code, once per call of the callback.
//!
//! `emit_entry` makes a second entry point next to the main one: `extern "C" fn(*mut JitCtx,
//! target) -> u64` loads the registers from the context and calls native code at `target` (the
//! callback's first instruction) instead of the main function. Its frame is laid out exactly as
//! the main entry's (the same pushes, then 8 bytes), so a fault or an early end inside the
//! callback unwinds through the shared exits to this entry, which returns the status to
//! `call`. The iteration itself (arguments, stop rule, result) is the runtime's
//! ([`crate::runtime::callback`]), as in the interpreter. The entry follows the code generator's
//! register map and entry frame (`compile::Gen::prologue`): when those change, it changes with
//! them (`tests/callbacks.rs` runs callbacks through it, faults included).

use super::ctx::{Hot, JitCtx, FLAG_EXIT0, FLAG_FAULT};
use crate::runtime::callback::{self, Start};
use crate::runtime::error::ErrorKind;
use crate::runtime::memory::{frame_pointer, MAX_CALL_FRAMES, STACK_SIZE};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, AssemblyOffset, DynasmApi, VecAssembler};
use std::mem::offset_of;

const ROOM: i32 = offset_of!(JitCtx, room) as i32;
const SAVED_RSP: i32 = offset_of!(JitCtx, saved_rsp) as i32;
const FLAG: i32 = offset_of!(JitCtx, flag) as i32;
const REGS: i32 = offset_of!(JitCtx, regs) as i32;

/// Emits the callback entry (see the module docs) and returns its offset.
pub(super) fn emit_entry(ops: &mut VecAssembler<X64Relocation>) -> AssemblyOffset {
    let entry = ops.offset();
    dynasm!(ops ; .arch x64
        ; push rbp ; push rbx ; push r12 ; push r13 ; push r14 ; push r15
        ; sub rsp, 8
        ; mov r12, rdi
        ; mov r11, rsi
        ; mov QWORD [r12 + FLAG], 0
        // r0, r6-r10 (rax, rbx, r13-r15, rbp), then r1-r5 (rdi, rsi, rdx, rcx, r8).
        ; mov rax, [r12 + REGS] ; mov rbx, [r12 + REGS + 48] ; mov r13, [r12 + REGS + 56]
        ; mov r14, [r12 + REGS + 64] ; mov r15, [r12 + REGS + 72] ; mov rbp, [r12 + REGS + 80]
        ; mov rdi, [r12 + REGS + 8] ; mov rsi, [r12 + REGS + 16] ; mov rdx, [r12 + REGS + 24]
        ; mov rcx, [r12 + REGS + 32] ; mov r8, [r12 + REGS + 40]
        ; mov r9, [r12 + ROOM]
        ; mov [r12 + SAVED_RSP], rsp
        ; call r11
        ; mov [r12 + ROOM], r9
        ; mov [r12 + REGS], rax
        ; xor eax, eax
        ; add rsp, 8
        ; pop r15 ; pop r14 ; pop r13 ; pop r12 ; pop rbx ; pop rbp
        ; ret
    );
    entry
}

/// Whether `prog` may call a callback (it loads a function's address), so frames past the first
/// are used even without a bpf-to-bpf call.
pub(super) fn uses_callbacks(prog: &crate::program::Program) -> bool {
    use crate::isa::{ImmSrc, Insn};
    prog.insns.iter().any(|i| matches!(i, Insn::LoadImm64 { src: ImmSrc::Func, .. }))
}

/// Records `kind` at instruction `idx` and raises the fault flag.
fn raise(ctx: &mut JitCtx, kind: ErrorKind, idx: usize) -> u64 {
    // SAFETY: `ctx.rt` points to the run's `Rt` for the whole run.
    unsafe { (*ctx.rt).error = Some((kind, idx)) };
    ctx.flag = FLAG_FAULT;
    0
}

/// Runs helper `id` (a callback-calling one) with `args`, called from the helper call at
/// instruction `idx`; returns its `r0`. A fault in the callback raises the flag, as any fault.
///
/// # Safety
/// `ctx` is the live context of a run, called from the helper callout of native code.
pub(super) unsafe fn call(ctx: *mut JitCtx, id: i64, args: [u64; 5], idx: usize) -> u64 {
    let c = unsafe { &mut *ctx };
    // SAFETY: as for every callout, `rt` points to the run's `Rt`.
    let (programs, current, budget, cpu) = unsafe {
        let run = &*c.rt;
        (run.programs, run.current, run.options.budget, run.options.cpu)
    };
    let mut iter = match callback::start(unsafe { &mut *(*c.rt).mem }, id, args) {
        Ok(Start::Now(r0)) => return r0,
        Ok(Start::Iterate(iter)) => iter,
        Err(kind) => return raise(c, kind, idx),
    };
    let (program, code) = &programs[current];
    let Some(&at) = code.insn_offsets.get(iter.insn).filter(|_| iter.insn < program.insns.len()) else {
        let msg = format!("the callback address points at instruction {}, past the program's end", iter.insn);
        return raise(c, ErrorKind::Invalid(msg), idx);
    };
    let target = code.buf.ptr(at) as u64;
    // SAFETY: `callback_entry` is the code `emit_entry` made, an `extern "C" fn(*mut JitCtx,
    // u64) -> u64` that only touches memory through `ctx` and what `jit_resolve` hands out.
    let entry: extern "C" fn(*mut JitCtx, u64) -> u64 =
        unsafe { std::mem::transmute(code.buf.ptr(code.callback_entry.0)) };
    // The nested entry reuses the fields that locate the native stack and the frame: keep ours.
    let (saved_rsp, tmp_rsp, depth, fp_host) = (c.saved_rsp, c.tmp_rsp, c.depth, c.fp_host);
    let frame = depth as usize + 1;
    loop {
        let c = unsafe { &mut *ctx };
        let Some(a) = iter.next(unsafe { &mut *(*c.rt).mem }, frame, cpu) else { break };
        if frame >= MAX_CALL_FRAMES {
            return raise(c, ErrorKind::CallDepth { max: MAX_CALL_FRAMES }, idx);
        }
        // A call of the callback costs 1, as a bpf-to-bpf call does.
        if c.room == 0 {
            return raise(c, ErrorKind::BudgetExhausted { budget }, idx);
        }
        c.room -= 1;
        c.regs[1..6].copy_from_slice(&a);
        c.regs[10] = frame_pointer(frame);
        c.depth = frame as u64;
        // Proved stack accesses address the frame through `fp_host` (see `JitCtx::fp_host`).
        // SAFETY: frame `frame` exists (checked against `MAX_CALL_FRAMES` above).
        c.fp_host = unsafe { (*c.rt).mem.stack.as_ptr().add((frame + 1) * STACK_SIZE) } as u64;
        // The key's region may have moved: no cached window survives.
        c.hot = [Hot::default(); 2];
        let status = entry(ctx, target);
        let c = unsafe { &mut *ctx };
        (c.saved_rsp, c.tmp_rsp, c.depth, c.fp_host) = (saved_rsp, tmp_rsp, depth, fp_host);
        if status != 0 {
            // The fault is recorded already.
            c.flag = FLAG_FAULT;
            return 0;
        }
        if c.flag == FLAG_EXIT0 {
            return 0;
        }
        iter.returned(c.regs[0]);
    }
    let c = unsafe { &mut *ctx };
    c.hot = [Hot::default(); 2];
    iter.result()
}
