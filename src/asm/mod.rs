//! The assembler and disassembler for both eBPF text syntaxes.
//!
//! - [`Syntax::Llvm`]: the kernel/LLVM syntax (`r0 = 1`, `if r1 > r2 goto +3`), as printed by
//!   `llvm-objdump` and the kernel verifier log; byte-identical to `llvm-mc -triple bpfel`.
//! - [`Syntax::Ubpf`]: the uBPF / bpf_conformance syntax (`mov %r0, 1`, `jgt %r1, 0x2, L3`).
//!
//! This module is the driver shared by both: it splits lines, strips comments, collects labels
//! and ebpf-lab directives (`.prog`, `.map`), hands each instruction to the syntax's parser, and
//! resolves label and map references once every line is read.
//!
//! ## Directives
//! - `.prog TYPE` — the program type (`mem`, `xdp`, `socket`, `tc`, `tracepoint`, `syscall`).
//! - `.map NAME TYPE key=K value=V max=N [flags=F]` — declare a map (`hash`, `array`, `prog_array`,
//!   `percpu_hash`, `percpu_array`, `lru_hash`, `ringbuf`); referenced from `lddw` by name.
//! - GNU directives that clang/llvm emit (`.text`, `.globl`, `.section`, `.p2align`, `.type`,
//!   `.size`, `.file`, `.addrsig`) are accepted and ignored so `clang -S` output assembles.

pub mod disasm;
pub mod helper_names;
pub mod kernel_log;
pub mod llvm;
pub mod ubpf;

use crate::isa::{Insn, JmpCond};
use crate::program::{MapDef, MapType, ProgType, Program, Source};
use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

/// The names of ebpf-lab's `lddw` pseudo-source forms (`map(NAME)`, `map_fd(N)`, ...), shared by
/// both syntaxes for parsing and "did you mean" help.
pub const LDDW_PSEUDO_FORMS: [&str; 9] =
    ["map", "map_value", "map_fd", "map_value_fd", "btf_id", "func", "map_idx", "map_idx_value", "ld_pseudo"];

/// The two text syntaxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Syntax {
    /// Kernel / LLVM syntax.
    Llvm,
    /// uBPF / bpf_conformance syntax.
    Ubpf,
}

impl Syntax {
    /// Parses `llvm` or `ubpf`.
    pub fn from_name(name: &str) -> Option<Syntax> {
        match name {
            "llvm" | "kernel" => Some(Syntax::Llvm),
            "ubpf" | "conformance" => Some(Syntax::Ubpf),
            _ => None,
        }
    }
}

/// An assembly error at a place in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmError {
    /// Byte range in the source text.
    pub span: Range<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, where that is obvious.
    pub help: Option<String>,
}

impl AsmError {
    /// An error over `span`.
    pub fn new(span: Range<usize>, message: impl Into<String>) -> AsmError {
        AsmError { span, message: message.into(), help: None }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> AsmError {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for AsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AsmError {}

/// Every error of one assembly, with the source they point into, so each can be shown as
/// `file:line:col: message` (and `?` works in callers that return `Box<dyn Error>`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmErrors {
    /// The text that was assembled.
    pub source: Source,
    /// The errors, in source order (never empty).
    pub errors: Vec<AsmError>,
}

impl std::ops::Deref for AsmErrors {
    type Target = [AsmError];
    fn deref(&self) -> &[AsmError] {
        &self.errors
    }
}

impl IntoIterator for AsmErrors {
    type Item = AsmError;
    type IntoIter = std::vec::IntoIter<AsmError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl fmt::Display for AsmErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let (line, col) = self.source.line_col(e.span.start);
            write!(f, "{}:{line}:{col}: {}", self.source.name, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for AsmErrors {}

/// Something an instruction refers to by name, resolved after all lines are read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fixup {
    /// A label: patched into the instruction's branch offset ([`Insn::with_branch_offset`]).
    Label {
        /// The label's name.
        name: String,
        /// Where it is written.
        span: Range<usize>,
    },
    /// A declared map: patched into an `lddw` as `BPF_PSEUDO_MAP_IDX` (the map's index), or
    /// `BPF_PSEUDO_MAP_IDX_VALUE` when the instruction already has that source.
    Map {
        /// The map's name.
        name: String,
        /// Where it is written.
        span: Range<usize>,
    },
}

/// One parsed instruction statement, before name resolution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stmt {
    /// The instruction (branch offset or map index still zero when `fixup` is set).
    pub insn: Insn,
    /// A name to resolve.
    pub fixup: Option<Fixup>,
}

/// Guesses the syntax of a file: uBPF mnemonics start lines (`mov`, `ldxw`, `jeq`, ...), while
/// the LLVM syntax is built of assignments, `if ... goto`, `call`, `exit` and `lock`.
pub fn detect_syntax(text: &str) -> Syntax {
    for line in text.lines() {
        let code = strip_comment(line).trim();
        // Skip a label or an instruction-index prefix (`12:` as the disassembler prints it).
        let code = match code.find(':') {
            Some(i) if is_ident(code[..i].trim()) || code[..i].trim().bytes().all(|b| b.is_ascii_digit()) => {
                code[i + 1..].trim()
            }
            _ => code,
        };
        if code.is_empty() || code.starts_with('.') {
            continue;
        }
        if code.contains('=') || code.starts_with("if ") || code.starts_with("goto") || code.starts_with("gotol") {
            return Syntax::Llvm;
        }
        let first = code.split_whitespace().next().unwrap_or("");
        if first == "ld_pseudo" {
            return Syntax::Llvm;
        }
        // `call kfunc(1, 2)` has a comma but is no evidence for uBPF; `exit` and `call` are
        // the same words in both syntaxes. uBPF alone writes `call local +N` (LLVM may have a
        // label named `local`, but then nothing follows it) and `call %r1`.
        if first == "call" {
            let args: Vec<&str> = code.split_whitespace().skip(1).collect();
            if matches!(args.as_slice(), ["local", _, ..]) || args.first().is_some_and(|a| a.starts_with('%')) {
                return Syntax::Ubpf;
            }
            continue;
        }
        if matches!(first, "exit" | "callx") {
            continue;
        }
        if code.contains('%') || code.contains(',') || code.contains('[') {
            return Syntax::Ubpf;
        }
        if first == "lock" {
            continue;
        }
        return Syntax::Ubpf;
    }
    Syntax::Llvm
}

/// Returns `line` without its comment (`#`, `//` or `;` to the end of the line).
pub fn strip_comment(line: &str) -> &str {
    let mut end = line.len();
    for pat in ["#", "//", ";"] {
        if let Some(i) = line.find(pat) {
            end = end.min(i);
        }
    }
    &line[..end]
}

/// True for a valid label or map name: `[A-Za-z_.$][A-Za-z0-9_.$]*`.
pub fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '.' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '$')
}

/// Assembles `text` (named `name` in diagnostics) into a [`Program`]. `syntax` overrides detection.
/// Returns every error found, in source order.
pub fn assemble(name: &str, text: &str, syntax: Option<Syntax>) -> Result<Program, AsmErrors> {
    let syntax = syntax.unwrap_or_else(|| detect_syntax(text));
    let mut errors = Vec::new();
    let mut stmts: Vec<(Stmt, Range<usize>)> = Vec::new();
    // Each label's statement index, span and line (for "defined twice").
    let mut labels: HashMap<String, (usize, Range<usize>, usize)> = HashMap::new();
    let mut maps: Vec<MapDef> = Vec::new();
    let mut map_spans: Vec<Range<usize>> = Vec::new();
    // Names of `.map` lines that did not parse (their uses are not errors of their own).
    let mut broken_maps: Vec<String> = Vec::new();
    let mut prog_type: Option<ProgType> = None;

    let mut line_start = 0;
    for (line_no, line) in (1..).zip(text.split_inclusive('\n')) {
        let base = line_start;
        line_start += line.len();
        let mut code = strip_comment(line.trim_end_matches(['\n', '\r']));
        let mut off = base;
        // Leading labels: `name:` (several may share a line).
        loop {
            let lead = code.len() - code.trim_start().len();
            let trimmed = code.trim_start();
            let Some(colon) = trimmed.find(':') else { break };
            let label = trimmed[..colon].trim_end();
            if !is_ident(label) {
                break;
            }
            let span = off + lead..off + lead + label.len();
            if let Some(&(_, _, pl)) = labels.get(label) {
                errors.push(
                    AsmError::new(span.clone(), format!("label `{label}` is defined twice"))
                        .with_help(format!("the first definition is on line {pl}")),
                );
            } else {
                labels.insert(label.to_string(), (stmts.len(), span, line_no));
            }
            off += lead + colon + 1;
            code = &trimmed[colon + 1..];
        }
        // An instruction-index prefix (`12:` as the disassembler, objdump and the verifier log
        // print it) is a reading aid, not a label.
        if let Some((n, rest)) = code.trim_start().split_once(':') {
            if !n.is_empty() && n.trim().bytes().all(|b| b.is_ascii_digit()) {
                off += code.len() - rest.len();
                code = rest;
            }
        }
        let lead = code.len() - code.trim_start().len();
        let body = code.trim();
        if body.is_empty() {
            continue;
        }
        let body_off = off + lead;
        let span = body_off..body_off + body.len();
        if body.starts_with('.') {
            match parse_directive(body, body_off) {
                Ok(Directive::Prog(t)) => prog_type = Some(t),
                Ok(Directive::Map(def)) => {
                    if maps.iter().any(|m| m.name == def.name) {
                        errors.push(AsmError::new(span.clone(), format!("map `{}` is declared twice", def.name)));
                    } else {
                        maps.push(def);
                        map_spans.push(span);
                    }
                }
                Ok(Directive::Ignored) => {}
                Err(e) => {
                    // A `.map NAME ...` line that failed still names its map: its uses are not
                    // reported again as unknown (one mistake, one error).
                    let mut words = body.split_whitespace();
                    if let (Some(".map"), Some(name)) = (words.next(), words.next()) {
                        broken_maps.push(name.to_string());
                    }
                    errors.push(e)
                }
            }
            continue;
        }
        let parsed = match syntax {
            Syntax::Llvm => llvm::parse_insn(body, body_off),
            Syntax::Ubpf => ubpf::parse_insn(body, body_off),
        };
        match parsed {
            Ok(stmt) => stmts.push((stmt, span)),
            Err(e) => errors.push(e),
        }
    }

    // Resolve names now that every label and map is known.
    let insns_only: Vec<Insn> = stmts.iter().map(|(s, _)| s.insn).collect();
    let pcs = crate::isa::slot_pcs(&insns_only);
    let first_exit = insns_only.iter().position(|i| matches!(i, Insn::Exit));
    let mut insns = Vec::with_capacity(stmts.len());
    let mut spans = Vec::with_capacity(stmts.len());
    // Each "did you mean" search reads every label: only as many as can be shown are made, so
    // a file of unknown references costs time linear in its size, not quadratic.
    let mut searches = crate::diag::MAX_SHOWN;
    let mut search = || searches.checked_sub(1).map(|left| searches = left).is_some();
    for (i, (stmt, span)) in stmts.into_iter().enumerate() {
        let insn = match stmt.fixup {
            None => stmt.insn,
            Some(Fixup::Label { name, span: lspan }) => {
                let target = match labels.get(&name) {
                    Some((idx, _, _)) => Some(*idx),
                    // uBPF convention: `exit` as a jump target means the first exit instruction.
                    None if syntax == Syntax::Ubpf && name == "exit" => first_exit,
                    None => None,
                };
                match target {
                    Some(t) => {
                        let offset = pcs[t] as i64 - (pcs[i] as i64 + 1);
                        match stmt.insn.with_branch_offset(offset) {
                            Some(insn) => insn,
                            None => {
                                errors.push(
                                    AsmError::new(
                                        lspan,
                                        format!("label `{name}` is {offset} instructions away, out of range here"),
                                    )
                                    .with_help(
                                        if matches!(stmt.insn, Insn::Ja { long: false, .. }) {
                                            "use `gotol` (ja32) for jumps beyond ±32767 instructions"
                                        } else {
                                            "conditional jumps reach at most ±32767 instructions"
                                        },
                                    ),
                                );
                                stmt.insn
                            }
                        }
                    }
                    None => {
                        let mut e = AsmError::new(lspan, format!("unknown label `{name}`"));
                        if let Some(best) =
                            search().then(|| closest(&name, labels.keys().map(String::as_str))).flatten()
                        {
                            e = e.with_help(format!("did you mean `{best}`?"));
                        }
                        errors.push(e);
                        stmt.insn
                    }
                }
            }
            Some(Fixup::Map { name, span: mspan }) => match maps.iter().position(|m| m.name == name) {
                Some(idx) => match stmt.insn {
                    Insn::LoadImm64 { dst, src, next_imm, .. } => {
                        let src = if src == crate::isa::ImmSrc::MapIdxValue || src == crate::isa::ImmSrc::MapValue {
                            crate::isa::ImmSrc::MapIdxValue
                        } else {
                            crate::isa::ImmSrc::MapIdx
                        };
                        Insn::LoadImm64 { dst, src, imm: idx as i32, next_imm }
                    }
                    other => other,
                },
                None if broken_maps.contains(&name) => stmt.insn,
                None => {
                    let mut e = AsmError::new(mspan, format!("unknown map `{name}`"));
                    e = match search().then(|| closest(&name, maps.iter().map(|m| m.name.as_str()))).flatten() {
                        Some(best) => e.with_help(format!("did you mean `{best}`?")),
                        None => e.with_help("declare it first: `.map NAME TYPE key=K value=V max=N`"),
                    };
                    errors.push(e);
                    stmt.insn
                }
            },
        };
        insns.push(insn);
        spans.push(span);
    }

    if !errors.is_empty() {
        errors.sort_by_key(|e| e.span.start);
        return Err(AsmErrors { source: Source { name: name.to_string(), text: text.to_string() }, errors });
    }
    Ok(Program {
        insns,
        maps,
        prog_type: prog_type.unwrap_or_default(),
        source: Some(Source { name: name.to_string(), text: text.to_string() }),
        spans,
        globals: Vec::new(),
        core_poisoned: Vec::new(),
        elf_section: None,
        c_lines: Vec::new(),
        btf: None,
    })
}

enum Directive {
    Prog(ProgType),
    Map(MapDef),
    Ignored,
}

fn parse_directive(body: &str, off: usize) -> Result<Directive, AsmError> {
    let words = split_words(body, off);
    let (name, nspan) = words[0].clone();
    match name {
        ".prog" => {
            let [_, (t, tspan)] = words.as_slice() else {
                return Err(AsmError::new(nspan, "`.prog` takes one program type")
                    .with_help(format!("one of: {}", prog_type_names())));
            };
            ProgType::from_name(t).map(Directive::Prog).ok_or_else(|| {
                AsmError::new(tspan.clone(), format!("unknown program type `{t}`"))
                    .with_help(format!("one of: {}", prog_type_names()))
            })
        }
        ".map" => parse_map(&words, nspan).map(Directive::Map),
        ".text" | ".globl" | ".global" | ".section" | ".p2align" | ".align" | ".type" | ".size" | ".file"
        | ".addrsig" | ".addrsig_sym" | ".cfi_sections" | ".cfi_startproc" | ".cfi_endproc" => Ok(Directive::Ignored),
        _ => Err(AsmError::new(nspan, format!("unknown directive `{name}`"))
            .with_help("ebpf-lab knows `.prog TYPE` and `.map NAME TYPE key=K value=V max=N [flags=F]`")),
    }
}

fn prog_type_names() -> String {
    ProgType::ALL.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
}

fn parse_map(words: &[(&str, Range<usize>)], nspan: Range<usize>) -> Result<MapDef, AsmError> {
    let usage = "`.map NAME TYPE key=K value=V max=N [flags=F]`";
    let (Some((name, name_span)), Some((ty, ty_span))) = (words.get(1), words.get(2)) else {
        return Err(AsmError::new(nspan, "`.map` needs a name and a type").with_help(usage));
    };
    if !is_ident(name) {
        return Err(AsmError::new(name_span.clone(), format!("`{name}` is not a valid map name")));
    }
    let map_type = MapType::from_name(ty).ok_or_else(|| {
        let names: Vec<_> = MapType::ALL.iter().map(|t| t.name()).collect();
        AsmError::new(ty_span.clone(), format!("unknown map type `{ty}`"))
            .with_help(format!("one of: {}", names.join(", ")))
    })?;
    let (mut key, mut value, mut max, mut flags) = (None, None, None, 0u32);
    for (w, span) in &words[3..] {
        let Some((k, v)) = w.split_once('=') else {
            return Err(AsmError::new(span.clone(), format!("expected `key=value`, found `{w}`")).with_help(usage));
        };
        let n = parse_u32(v)
            .ok_or_else(|| AsmError::new(span.clone(), format!("`{v}` is not a number in 0..=4294967295")))?;
        match k {
            "key" => key = Some(n),
            "value" => value = Some(n),
            "max" | "max_entries" => max = Some(n),
            "flags" => flags = n,
            _ => return Err(AsmError::new(span.clone(), format!("unknown map attribute `{k}`")).with_help(usage)),
        }
    }
    let (key, value) = if map_type == MapType::Ringbuf {
        (key.unwrap_or(0), value.unwrap_or(0))
    } else if map_type == MapType::ProgArray {
        (key.unwrap_or(4), value.unwrap_or(4))
    } else {
        match (key, value) {
            (Some(k), Some(v)) => (k, v),
            _ => {
                return Err(
                    AsmError::new(nspan, format!("map `{name}` needs `key=` and `value=` sizes")).with_help(usage)
                )
            }
        }
    };
    let Some(max_entries) = max else {
        return Err(AsmError::new(nspan, format!("map `{name}` needs `max=` (max_entries)")).with_help(usage));
    };
    Ok(MapDef {
        name: name.to_string(),
        map_type,
        key_size: key,
        value_size: value,
        max_entries,
        flags,
        extra: Default::default(),
    })
}

fn parse_u32(s: &str) -> Option<u32> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Splits on whitespace, keeping each word's byte span (offset by `off`).
fn split_words(s: &str, off: usize) -> Vec<(&str, Range<usize>)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        match (c.is_whitespace(), start) {
            (true, Some(st)) => {
                out.push((&s[st..i], off + st..off + i));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out
}

/// The candidate closest to `word` by edit distance, if it is close enough to be a typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let wlen = word.chars().count();
    candidates
        .into_iter()
        .filter_map(|c| {
            let clen = c.chars().count();
            let limit = (clen.max(wlen) / 3).max(1);
            // The distance is at least the difference in length: most candidates stop here.
            if clen.abs_diff(wlen) > limit {
                return None;
            }
            let d = edit_distance_within(word, c, limit);
            (d <= limit).then_some((d, c))
        })
        .min()
        .map(|(_, c)| c)
}

/// The candidate `word` was probably meant to be: [`closest`] by edit distance, or one with the
/// same letters in another order (`exti` for `exit`, `mvo` for `mov`), which edit distance
/// counts as two typos.
pub fn suggest<'c>(word: &str, candidates: &[&'c str]) -> Option<&'c str> {
    closest(word, candidates.iter().copied()).or_else(|| {
        let mut letters: Vec<char> = word.chars().collect();
        letters.sort_unstable();
        let mut other = Vec::with_capacity(letters.len());
        // Only a candidate of the same length can hold the same letters.
        candidates.iter().copied().filter(|c| c.len() == word.len()).find(|c| {
            other.clear();
            other.extend(c.chars());
            other.sort_unstable();
            other == letters
        })
    })
}

/// Levenshtein distance (one row of the table, reused).
pub fn edit_distance(a: &str, b: &str) -> usize {
    edit_distance_within(a, b, usize::MAX)
}

/// [`edit_distance`], or any number above `limit` once the distance is sure to exceed it.
/// Words of ASCII up to 63 bytes, every real candidate, are compared without allocating: a
/// "did you mean" search runs once per unknown word, against up to ~150 names.
fn edit_distance_within(a: &str, b: &str, limit: usize) -> usize {
    const SHORT: usize = 64;
    if a.is_ascii() && b.is_ascii() && b.len() < SHORT {
        let mut row = [0usize; SHORT];
        return distance_row(a.bytes(), b.as_bytes(), &mut row[..=b.len()], limit);
    }
    let b: Vec<char> = b.chars().collect();
    let mut row = vec![0; b.len() + 1];
    distance_row(a.chars(), &b, &mut row, limit)
}

/// The table's rows for `a` against `b`, in `row` (`b.len() + 1` entries); stops early when a
/// whole row exceeds `limit` (the rows never decrease).
fn distance_row<T: PartialEq>(a: impl Iterator<Item = T>, b: &[T], row: &mut [usize], limit: usize) -> usize {
    for (j, r) in row.iter_mut().enumerate() {
        *r = j;
    }
    for (i, ca) in a.enumerate() {
        // `diag` is the previous row's entry left of the one being replaced.
        let mut diag = row[0];
        row[0] = i + 1;
        let mut least = row[0];
        for (j, cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != *cb)).min(row[j + 1] + 1).min(row[j] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
            least = least.min(next);
        }
        if least > limit {
            return least;
        }
    }
    row[b.len()]
}

/// Used by parsers to tell a condition's operator from a label name, kept here so both share it.
pub fn cond_from_operator(op: &str) -> Option<JmpCond> {
    JmpCond::ALL.into_iter().find(|c| c.operator() == op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_typos_and_gives_up_past_the_limit() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "exit"), 4);
        assert_eq!(edit_distance("ßx", "sx"), 1);
        // Past the limit only "more than it" is promised.
        assert!(edit_distance_within("abcdefgh", "stuvwxyz", 2) > 2);
        assert_eq!(edit_distance_within("mov", "mvo", 2), 2);
        assert_eq!(suggest("mvo", &["add", "mov"]), Some("mov"));
        assert_eq!(suggest("zzz", &["add", "mov"]), None);
    }
}
