//! `.BTF.ext` line info: clang's map from each instruction (byte offset in its section) to the
//! C file, line and column it came from, with the line's text in `.BTF`'s string table — what
//! lets a diagnostic on an ELF program point at its C line, and what the kernel prints in its log.

use super::btf::Btf;
use super::btf_ext::{records, word, Part};
use std::collections::HashMap;

/// One `struct bpf_line_info`, with its strings resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineRecord {
    /// Byte offset of the first instruction of the line in its section.
    pub insn_off: u32,
    /// The C file as clang was given it.
    pub file: String,
    /// 1-based line (0: unknown).
    pub line: u32,
    /// 1-based column (0: unknown).
    pub col: u32,
    /// The line's text, as clang stored it.
    pub text: String,
    /// The record as stored (`insn_off`, `file_name_off`, `line_off`, `line_col`), for the kernel.
    pub raw: [u32; 4],
}

/// One `struct bpf_func_info`: a function's first instruction and its `FUNC` type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncRecord {
    /// Byte offset of the function in its section.
    pub insn_off: u32,
    /// Its `FUNC` type in `.BTF`.
    pub type_id: u32,
}

/// The func records of `.BTF.ext` by section name.
pub fn parse_func_info(ext: &[u8], btf: &Btf) -> Result<HashMap<String, Vec<FuncRecord>>, String> {
    // func_info_off/len are at 8/12 of the header.
    let part = Part { header_field: 8, min_record: 8, what: "func" };
    let mut out: HashMap<String, Vec<FuncRecord>> = HashMap::new();
    for (section, r) in records(ext, btf, &part)? {
        out.entry(section).or_default().push(FuncRecord { insn_off: word(r, 0)?, type_id: word(r, 4)? });
    }
    Ok(out)
}

/// The line records of `.BTF.ext` by section name, in section order; `btf` holds the strings.
/// An object without line info gives an empty map.
pub fn parse_line_info(ext: &[u8], btf: &Btf) -> Result<HashMap<String, Vec<LineRecord>>, String> {
    // line_info_off/len are at 16/20 of the header.
    let part = Part { header_field: 16, min_record: 16, what: "line" };
    let mut out: HashMap<String, Vec<LineRecord>> = HashMap::new();
    for (section, r) in records(ext, btf, &part)? {
        let line_col = word(r, 12)?;
        out.entry(section).or_default().push(LineRecord {
            insn_off: word(r, 0)?,
            file: btf.str_at(word(r, 4)?).to_string(),
            text: btf.str_at(word(r, 8)?).to_string(),
            line: line_col >> 10,
            col: line_col & 0x3ff,
            raw: [word(r, 0)?, word(r, 4)?, word(r, 8)?, line_col],
        });
    }
    Ok(out)
}
