//! The listing of `ebpf-lab jit`: each instruction (in the kernel log's notation, with its
//! source line) next to the x86-64 it became, disassembled with iced-x86 in Intel syntax.

use super::compile::{compile_with, Compiled, LoopCode};
use super::JitChecks;
use crate::asm::disasm::FormatCtx;
use crate::asm::kernel_log;
use crate::program::Program;
use crate::runtime::error::RuntimeError;
use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
use std::time::{Duration, Instant};

/// One native instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeInsn {
    /// Offset from the start of the code.
    pub offset: usize,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Intel syntax.
    pub text: String,
}

/// One eBPF instruction and the code it became.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedInsn {
    /// Slot pc (the kernel's instruction index).
    pub pc: usize,
    /// The instruction in the kernel verifier log's notation.
    pub text: String,
    /// `file:line:col`, when the program has a source.
    pub location: Option<String>,
    /// The source line, trimmed, when the program has a source.
    pub source_line: Option<String>,
    /// The native code.
    pub native: Vec<NativeInsn>,
}

/// A whole program's listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listing {
    /// Per eBPF instruction.
    pub insns: Vec<ListedInsn>,
    /// The shared code after the instructions: fall-off check, slow paths, entry and exits.
    pub stubs: Vec<NativeInsn>,
    /// Bytes of native code in all.
    pub code_size: usize,
    /// Bytes of native code of the instructions alone.
    pub insns_size: usize,
    /// How long compiling took.
    pub compile_time: Duration,
    /// The counted loops whose accesses a guard checks once at the entry (slot pcs of the
    /// head and back-edge, offsets of the guard and of the unchecked copy).
    pub counted_loops: Vec<LoopCode>,
}

/// Compiles `prog` with every access checked and lists it.
pub fn listing(prog: &Program) -> Result<Listing, RuntimeError> {
    listing_with(prog, JitChecks::All)
}

/// Compiles `prog` checking the accesses `checks` says, and lists it. The compile time does not
/// include verifying (for `JitChecks::Unproven`).
pub fn listing_with(prog: &Program, checks: JitChecks) -> Result<Listing, RuntimeError> {
    let proofs = checks.proofs(prog);
    let start = Instant::now();
    let code = compile_with(prog, proofs.as_deref())?;
    let compile_time = start.elapsed();
    Ok(list(prog, &code, compile_time))
}

/// Lists already compiled code.
pub fn list(prog: &Program, code: &Compiled, compile_time: Duration) -> Listing {
    let bytes: &[u8] = &code.buf;
    let pcs = prog.slot_pcs();
    let fctx = FormatCtx { maps: &prog.maps };
    let n = prog.insns.len();
    let insns = prog
        .insns
        .iter()
        .enumerate()
        .map(|(i, insn)| {
            let (from, to) = (code.insn_offsets[i], code.insn_offsets[i + 1]);
            let source_line = prog.source.as_ref().zip(prog.span(i)).map(|(src, span)| {
                let line_start = src.text[..span.start].rfind('\n').map_or(0, |p| p + 1);
                let line_end = src.text[span.start..].find('\n').map_or(src.text.len(), |p| span.start + p);
                src.text[line_start..line_end].trim().to_string()
            });
            ListedInsn {
                pc: pcs[i],
                text: kernel_log::format_insn(insn, &fctx),
                location: prog.location(i),
                source_line,
                native: disassemble(&bytes[from..to], from),
            }
        })
        .collect();
    let insns_end = code.insn_offsets[n];
    Listing {
        insns,
        stubs: disassemble(&bytes[insns_end..], insns_end),
        code_size: bytes.len(),
        insns_size: insns_end - code.insn_offsets[0],
        compile_time,
        counted_loops: code
            .counted_loops
            .iter()
            .map(|c| LoopCode { head: pcs[c.head], back: pcs[c.back], ..*c })
            .collect(),
    }
}

/// Disassembles `bytes`, which start at `offset` in the code.
fn disassemble(bytes: &[u8], offset: usize) -> Vec<NativeInsn> {
    let mut decoder = Decoder::with_ip(64, bytes, offset as u64, DecoderOptions::NONE);
    let mut formatter = IntelFormatter::new();
    let mut out = Vec::new();
    let mut text = String::new();
    for insn in &mut decoder {
        text.clear();
        formatter.format(&insn, &mut text);
        let at = insn.ip() as usize - offset;
        out.push(NativeInsn {
            offset: insn.ip() as usize,
            bytes: bytes[at..at + insn.len()].to_vec(),
            text: text.clone(),
        });
    }
    out
}
