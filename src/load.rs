//! Reading a program file into a [`Program`]: assembly text (`.s`, either syntax), raw
//! bytecode (`.bin`), an ELF object built by clang (`.o`, see [`crate::elf`]), or hex text
//! (`.hex`, or any text made of hex byte pairs). Errors carry diagnostics that point into the file.

use crate::asm::{self, Syntax};
use crate::diag::Diagnostic;
use crate::program::{Program, Source};
use std::path::Path;

/// Why a program file could not be read.
#[derive(Debug)]
pub struct LoadError {
    /// The file's text, when the errors point into it.
    pub source: Option<Source>,
    /// What is wrong, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl LoadError {
    fn plain(message: String) -> LoadError {
        LoadError { source: None, diagnostics: vec![Diagnostic::error(message, None)] }
    }

    /// Renders every diagnostic.
    pub fn render(&self, color: bool) -> String {
        crate::diag::render_all(self.source.as_ref(), &self.diagnostics, color)
    }
}

/// The form a program file is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// Assembly text.
    Asm,
    /// Raw little-endian bytecode.
    Raw,
    /// Hex bytes as text (whitespace, commas and `0x` prefixes allowed).
    Hex,
}

/// Guesses the kind from the extension, then from the content.
pub fn file_kind(path: &Path, bytes: &[u8]) -> FileKind {
    match path.extension().and_then(|e| e.to_str()) {
        Some("s" | "S" | "asm") => return FileKind::Asm,
        Some("bin" | "raw") => return FileKind::Raw,
        Some("hex") => return FileKind::Hex,
        _ => {}
    }
    match std::str::from_utf8(bytes) {
        Ok(text) if parse_hex(text).is_ok() && !text.trim().is_empty() => FileKind::Hex,
        Ok(_) => FileKind::Asm,
        Err(_) => FileKind::Raw,
    }
}

/// Parses hex byte text: pairs of hex digits separated by whitespace or commas, optional `0x`.
/// A long run of digits is read as consecutive bytes (`b700000001000000`).
pub fn parse_hex(text: &str) -> Result<Vec<u8>, (usize, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    for tok in text.split_inclusive(|c: char| c.is_whitespace() || c == ',') {
        let start = offset;
        offset += tok.len();
        let t = tok.trim_end_matches(|c: char| c.is_whitespace() || c == ',');
        let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
        if t.is_empty() {
            continue;
        }
        if !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err((start, format!("`{t}` is not a sequence of hex byte pairs")));
        }
        if t.len() % 2 != 0 {
            return Err((start, format!("`{t}` has an odd number of hex digits (a byte is two: `0{t}`?)")));
        }
        for i in (0..t.len()).step_by(2) {
            out.push(u8::from_str_radix(&t[i..i + 2], 16).expect("checked hex digits"));
        }
    }
    Ok(out)
}

/// Builds a program from text that is assembly or hex, named `name` in diagnostics.
pub fn program_from_text(name: &str, text: &str, kind: FileKind, syntax: Option<Syntax>) -> Result<Program, LoadError> {
    let source = Source { name: name.to_string(), text: text.to_string() };
    match kind {
        FileKind::Hex => {
            let bytes = parse_hex(text).map_err(|(at, msg)| LoadError {
                source: Some(source.clone()),
                diagnostics: vec![Diagnostic::error(msg, Some(at..at + 1))],
            })?;
            program_from_bytes(name, &bytes)
        }
        FileKind::Raw => program_from_bytes(name, text.as_bytes()),
        FileKind::Asm => asm::assemble(name, text, syntax).map_err(|errors| LoadError {
            source: Some(source),
            diagnostics: errors.iter().map(Diagnostic::from).collect(),
        }),
    }
}

/// Decodes raw bytecode, naming the bad instruction on error.
pub fn program_from_bytes(name: &str, bytes: &[u8]) -> Result<Program, LoadError> {
    Program::from_bytes(bytes).map_err(|e| LoadError::plain(format!("{name}: {e} (byte offset {})", e.pc * 8)))
}

/// Splits `prog.o:SECTION` (bpftool's way to name one program of an object) into the file and
/// the section, when `path` itself does not exist but the part before a `:` does: the first such
/// `:`, since section names may hold colons (`uprobe//proc/self/exe:func`).
fn split_section(path: &Path) -> (&Path, Option<&str>) {
    if path.exists() {
        return (path, None);
    }
    let Some(s) = path.to_str() else { return (path, None) };
    s.match_indices(':')
        .map(|(i, _)| (&s[..i], &s[i + 1..]))
        .find(|(file, section)| !section.is_empty() && Path::new(file).exists())
        .map_or((path, None), |(file, section)| (Path::new(file), Some(section)))
}

/// Reads `path` (or standard input for `-`) into a program. For an ELF object, `prog.o:SECTION`
/// picks the program in that section (or function) instead of the first one.
pub fn load_program(path: &Path, syntax: Option<Syntax>) -> Result<Program, LoadError> {
    let (path, section) = split_section(path);
    let name = path.display().to_string();
    let bytes = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf)
            .map_err(|e| LoadError::plain(format!("<stdin>: {e}")))?;
        buf
    } else {
        std::fs::read(path).map_err(|e| LoadError::plain(format!("{name}: {e}")))?
    };
    if bytes.starts_with(b"\x7fELF") {
        return crate::elf::program_from_elf(&name, &bytes, section).map_err(|e| LoadError::plain(e.to_string()));
    }
    if path.extension().is_some_and(|e| e == "o") {
        return Err(LoadError::plain(format!(
            "{name}: not an ELF object (a `.o` file starts with the bytes 7f 45 4c 46); build it with \
             `clang -target bpf -c`"
        )));
    }
    if let Some(section) = section {
        return Err(LoadError::plain(format!(
            "{name}: `:{section}` picks a section of an ELF object, and this is not one"
        )));
    }
    let program = match file_kind(path, &bytes) {
        FileKind::Raw => program_from_bytes(&name, &bytes)?,
        kind => {
            let text = String::from_utf8(bytes).map_err(|e| {
                LoadError::plain(format!("{name}: not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
            })?;
            program_from_text(&name, &text, kind, syntax)?
        }
    };
    if program.insns.is_empty() {
        // Every engine would refuse it for a reason of its own; the input is what is wrong.
        return Err(LoadError::plain(format!("{name}: the program is empty (a program needs at least an `exit`)")));
    }
    Ok(program)
}

/// Checks, before a run, that every map the program refers to is declared: raw bytecode cannot
/// declare maps, so a `.bin` that uses one is an input that cannot run (exit 2), said so with how
/// to declare them. (Disassembling it is fine.)
pub fn check_maps_declared(name: &str, program: &Program) -> Result<(), String> {
    undeclared_map(program).map_or(Ok(()), |(i, idx)| {
        Err(format!(
            "{name}: instruction {i} uses map #{idx}, which the file does not declare (bytecode has no map \
             declarations: run the `.s` with its `.map NAME TYPE key=K value=V max=N` lines, or an ELF object)"
        ))
    })
}

/// The first instruction that refers to a map the program does not declare, and the map index.
fn undeclared_map(program: &Program) -> Option<(usize, i32)> {
    use crate::isa::{ImmSrc, Insn};
    program.insns.iter().enumerate().find_map(|(i, insn)| match *insn {
        Insn::LoadImm64 {
            src: ImmSrc::MapFd | ImmSrc::MapIdx | ImmSrc::MapValue | ImmSrc::MapIdxValue, imm, ..
        } if usize::try_from(imm).map_or(true, |m| m >= program.maps.len()) => Some((i, imm)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_accepts_pairs_runs_and_prefixes() {
        assert_eq!(parse_hex("b7 00 0x01, 95\n").unwrap(), vec![0xb7, 0, 1, 0x95]);
        assert_eq!(parse_hex("b700000001000000").unwrap(), vec![0xb7, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(parse_hex("b7 0z").unwrap_err().0, 3);
        assert!(parse_hex("abc").is_err());
    }

    #[test]
    fn raw_bytes_with_a_bad_instruction_name_its_index() {
        let e = program_from_bytes("p.bin", &[0xb7, 0, 0, 0, 0, 0, 0, 0, 0x8f, 0, 0, 0, 0, 0, 0, 0]).unwrap_err();
        assert!(e.render(false).contains("p.bin: insn 1: unknown opcode 0x8f (byte offset 8)"), "{}", e.render(false));
    }
}
