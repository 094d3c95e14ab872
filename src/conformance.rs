//! Reader for the eBPF conformance suite's `.data` files (Alan-Jowett/bpf_conformance).
//!
//! A file is a list of sections, each opened by a line `-- NAME`; `#` starts a comment.
//!
//! | section | content |
//! |---|---|
//! | `-- asm` | the program in the uBPF syntax ([`crate::asm::Syntax::Ubpf`]) |
//! | `-- raw` | the program as bytecode; replaces `asm` when present |
//! | `-- mem` | hex bytes of the input memory (`r1` points to it, `r2` holds its length) |
//! | `-- result` | the expected `r0`: hex with `0x`, else decimal (negative is two's complement) |
//! | `-- error` | the error text the program is expected to fail with |
//! | `-- c`, `-- no register offset` | informational, ignored |
//!
//! `-- raw` comes in two layouts, both accepted: one little-endian 64-bit word per line
//! (`0x0000000000000095`), or eight hex bytes per line in memory order (`95 00 00 00 00 00 00 00`).
//!
//! Any other section name is an error, as it is for the suite's own runner (which skips such a
//! file): a misspelt section would otherwise silently drop part of a test.
//!
//! Typical use, as the tests do it:
//!
//! ```no_run
//! use ebpf_lab::conformance;
//! let Some(dir) = conformance::suite_dir() else { return };
//! for case in conformance::load_dir(&dir.join("bpf_conformance")).unwrap() {
//!     let program = conformance::program(&case).unwrap();
//!     // run `program` on `case.mem`, compare r0 with `case.result`
//! }
//! ```

use crate::asm::{self, Syntax};
use crate::program::{Program, Source};
use std::path::{Path, PathBuf};

/// One test of the suite, as read from its `.data` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConformanceCase {
    /// The test's name: the file name without `.data`.
    pub name: String,
    /// The `-- asm` section, verbatim (comments included; the assembler strips them).
    pub asm: Option<String>,
    /// 1-based line of the file where the `asm` text starts, to map assembler spans to the file.
    pub asm_line: usize,
    /// The `-- raw` section as 64-bit instruction words (one per slot, little-endian layout).
    pub raw: Option<Vec<u64>>,
    /// Input memory (empty when the file has no `-- mem`).
    pub mem: Vec<u8>,
    /// Expected `r0`, all 64 bits.
    pub result: Option<u64>,
    /// Expected error text.
    pub error: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Preamble,
    Asm,
    Raw,
    Mem,
    Result,
    Error,
    Ignored,
}

/// Parses the text of one `.data` file. `name` is the test's name (used in messages).
///
/// Fails on an unknown section, a malformed number or byte, a file with no program (neither
/// `asm` nor `raw`), and a file with no expected outcome (neither `result` nor `error`) — the
/// cases the suite's runner skips as broken tests. Messages carry the 1-based line number.
pub fn parse_case(name: &str, text: &str) -> Result<ConformanceCase, String> {
    let mut section = Section::Preamble;
    let mut asm_text: Option<String> = None;
    let mut asm_line = 0;
    let mut raw_tokens: Option<Vec<(usize, Vec<String>)>> = None;
    let mut mem = Vec::new();
    let mut result_lines: Option<Vec<(usize, String)>> = None;
    let mut error_lines: Option<Vec<String>> = None;

    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = line.trim_end_matches('\r');
        if let Some(header) = line.strip_prefix("--") {
            let header = header.trim();
            section = match header {
                "asm" => {
                    asm_text.get_or_insert_with(String::new);
                    asm_line = lineno + 1;
                    Section::Asm
                }
                "raw" => {
                    raw_tokens.get_or_insert_with(Vec::new);
                    Section::Raw
                }
                "mem" => Section::Mem,
                "result" => {
                    result_lines.get_or_insert_with(Vec::new);
                    Section::Result
                }
                "error" => {
                    error_lines.get_or_insert_with(Vec::new);
                    Section::Error
                }
                "c" | "no register offset" => Section::Ignored,
                other => return Err(format!("{name}:{lineno}: unknown section `-- {other}`")),
            };
            continue;
        }
        // Comments only end data lines; the assembler strips its own so spans stay exact.
        let data = line.split('#').next().unwrap_or("").trim();
        match section {
            Section::Preamble | Section::Ignored => {}
            Section::Asm => {
                let t = asm_text.get_or_insert_with(String::new);
                t.push_str(line);
                t.push('\n');
            }
            Section::Raw if !data.is_empty() => raw_tokens
                .get_or_insert_with(Vec::new)
                .push((lineno, data.split_whitespace().map(str::to_string).collect())),
            Section::Mem => {
                for tok in data.split_whitespace() {
                    let digits = tok.strip_prefix("0x").unwrap_or(tok);
                    let byte = u8::from_str_radix(digits, 16)
                        .map_err(|_| format!("{name}:{lineno}: `{tok}` is not a hex byte"))?;
                    mem.push(byte);
                }
            }
            Section::Result if !data.is_empty() => {
                result_lines.get_or_insert_with(Vec::new).push((lineno, data.to_string()))
            }
            Section::Error => {
                if !line.trim().is_empty() {
                    error_lines.get_or_insert_with(Vec::new).push(line.trim().to_string());
                }
            }
            _ => {}
        }
    }

    let raw = match raw_tokens {
        None => None,
        Some(lines) => Some(parse_raw(name, &lines)?),
    };
    let result = match result_lines.as_deref() {
        None | Some([]) => None,
        Some([(lineno, s)]) => Some(parse_result(s).ok_or_else(|| format!("{name}:{lineno}: bad result `{s}`"))?),
        Some([_, (lineno, _), ..]) => return Err(format!("{name}:{lineno}: more than one result value")),
    };
    let error = error_lines.map(|l| l.join("\n"));
    if asm_text.is_none() && raw.is_none() {
        return Err(format!("{name}: no program (neither an `-- asm` nor a `-- raw` section)"));
    }
    if result.is_none() && error.is_none() {
        return Err(format!("{name}: no expected outcome (neither `-- result` nor `-- error`)"));
    }
    Ok(ConformanceCase { name: name.to_string(), asm: asm_text, asm_line, raw, mem, result, error })
}

/// Reads the `raw` lines: eight byte tokens make one word in memory order, otherwise every
/// token is a whole word (hex with `0x`, else decimal).
fn parse_raw(name: &str, lines: &[(usize, Vec<String>)]) -> Result<Vec<u64>, String> {
    let mut words = Vec::new();
    for (lineno, toks) in lines {
        let is_byte = |t: &String| (1..=2).contains(&t.len()) && t.chars().all(|c| c.is_ascii_hexdigit());
        if toks.len() == 8 && toks.iter().all(is_byte) {
            let mut bytes = [0u8; 8];
            for (b, t) in bytes.iter_mut().zip(toks) {
                *b = u8::from_str_radix(t, 16).map_err(|_| format!("{name}:{lineno}: bad byte `{t}`"))?;
            }
            words.push(u64::from_le_bytes(bytes));
            continue;
        }
        for t in toks {
            let w = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                Some(h) => u64::from_str_radix(h, 16).ok(),
                None => t.parse().ok(),
            };
            words.push(w.ok_or_else(|| format!("{name}:{lineno}: `{t}` is not a 64-bit instruction word"))?);
        }
    }
    Ok(words)
}

/// Parses an expected `r0`: `0x` hex, or decimal (a negative decimal is its two's complement).
pub fn parse_result(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok();
    }
    if s.starts_with('-') {
        return s.parse::<i64>().ok().map(|v| v as u64);
    }
    s.parse::<u64>().ok()
}

/// Reads every `*.data` file of `dir`, sorted by name. Fails on the first unreadable or
/// malformed file, naming it.
pub fn load_dir(dir: &Path) -> Result<Vec<ConformanceCase>, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.extension().is_some_and(|x| x == "data") {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            parse_case(&case_name(path), &text)
        })
        .collect()
}

/// The test name of a `.data` path: its file stem.
pub fn case_name(path: &Path) -> String {
    path.file_stem().map_or_else(String::new, |s| s.to_string_lossy().into_owned())
}

/// The conformance data directory, `../shared/conformance` seen from the crate root, if present.
/// Tests skip (with one printed line) when this returns `None`.
pub fn suite_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance");
    dir.is_dir().then_some(dir)
}

/// The program of a case: the `raw` words decoded (with the kernel's structural checks), else the
/// `asm` text assembled in the uBPF syntax. Assembler errors are reported as `name:line:col:
/// message`, with line numbers of the `.data` file. An empty program is an error, as in the
/// suite's runner.
pub fn program(case: &ConformanceCase) -> Result<Program, String> {
    let program = if let Some(words) = &case.raw {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        Program::from_bytes(&bytes).map_err(|e| format!("{}: {e}", case.name))?
    } else {
        let text = case.asm.as_deref().unwrap_or("");
        asm::assemble(&case.name, text, Some(Syntax::Ubpf)).map_err(|errors| {
            let src = Source { name: case.name.clone(), text: text.to_string() };
            errors
                .iter()
                .map(|e| {
                    let (line, col) = src.line_col(e.span.start);
                    let line = line + case.asm_line.saturating_sub(1);
                    match &e.help {
                        Some(h) => format!("{}:{line}:{col}: {} ({h})", case.name, e.message),
                        None => format!("{}:{line}:{col}: {}", case.name, e.message),
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        })?
    };
    if program.insns.is_empty() {
        return Err(format!("{}: the program has no instructions", case.name));
    }
    Ok(program)
}
