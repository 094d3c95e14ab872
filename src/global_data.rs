//! Global variables of C programs, held the way libbpf holds them: each section of them —
//! `.data`, `.bss`, `.rodata` and its relatives (`.rodata.str1.1`, the string literals of
//! `bpf_printk`) — is a one-element array map whose value is the section's bytes, and code
//! reaches a variable through `lddw rX, map_value(SECTION, OFFSET)` (`BPF_PSEUDO_MAP_IDX_VALUE`).
//! `.rodata` maps are read-only to programs (`BPF_F_RDONLY_PROG`) and frozen before the program
//! is loaded, so the verifier may treat their contents as constants.
//!
//! Every engine starts a global section's map from [`GlobalSection::init`]; user space changes a
//! variable before the run by changing that image ([`set_global`], `--global NAME=VALUE`).

use crate::program::Program;

/// One global variable: a named range of its section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalVar {
    /// The C name.
    pub name: String,
    /// Byte offset in the section.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// A section of global variables and the map that holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GlobalSection {
    /// Index of its map in [`Program::maps`] (named after the section).
    pub map: usize,
    /// The map's value before the program's first run: the section's bytes (zeros for `.bss`).
    pub init: Vec<u8>,
    /// Its variables, by offset (string literals have none).
    pub vars: Vec<GlobalVar>,
    /// `.rodata*`: read-only to programs, frozen before loading.
    pub read_only: bool,
}

impl GlobalSection {
    /// The bytes of `var` in a value of this section's map (empty if the value is too short).
    pub fn var_bytes<'a>(&self, var: &GlobalVar, value: &'a [u8]) -> &'a [u8] {
        value.get(var.offset as usize..(var.offset + var.size) as usize).unwrap_or(&[])
    }
}

/// The section holding map `index`, if that map holds global variables.
pub fn section_of_map(program: &Program, index: usize) -> Option<&GlobalSection> {
    program.globals.iter().find(|g| g.map == index)
}

/// The section and variable called `name` (`counter`, or `.bss.counter` where two sections
/// have one of that name).
pub fn find_global<'a>(program: &'a Program, name: &str) -> Result<(usize, &'a GlobalVar), String> {
    let mut found = Vec::new();
    for (gi, g) in program.globals.iter().enumerate() {
        let section = &program.maps[g.map].name;
        for v in &g.vars {
            if v.name == name || format!("{section}.{}", v.name) == name {
                found.push((gi, v));
            }
        }
    }
    match found.len() {
        1 => Ok(found[0]),
        0 => {
            let all: Vec<&str> = program.globals.iter().flat_map(|g| g.vars.iter().map(|v| v.name.as_str())).collect();
            Err(format!(
                "the program has no global variable `{name}` (globals: {})",
                if all.is_empty() { "none".into() } else { all.join(", ") }
            ))
        }
        _ => Err(format!("`{name}` is a global of several sections: write SECTION.{name}, e.g. .data.{name}")),
    }
}

/// Sets global `name` to `bytes` (exactly its size) in the image every engine starts from.
pub fn set_global(program: &mut Program, name: &str, bytes: &[u8]) -> Result<(), String> {
    let (gi, var) = find_global(program, name)?;
    let var = var.clone();
    if bytes.len() != var.size as usize {
        return Err(format!("global `{name}` is {} bytes, the value given is {}", var.size, bytes.len()));
    }
    let g = &mut program.globals[gi];
    g.init[var.offset as usize..(var.offset + var.size) as usize].copy_from_slice(bytes);
    Ok(())
}

/// A variable's value for people: integers (1, 2, 4, 8 bytes) in decimal (and hex when large),
/// NUL-terminated printable text as a string, anything else as hex bytes.
pub fn show_value(bytes: &[u8]) -> String {
    if matches!(bytes.len(), 1 | 2 | 4 | 8) {
        let mut v = [0u8; 8];
        v[..bytes.len()].copy_from_slice(bytes);
        let n = u64::from_le_bytes(v);
        return if n < 10 { n.to_string() } else { format!("{n} ({n:#x})") };
    }
    let text = bytes.split(|b| *b == 0).next().unwrap_or(&[]);
    let is_string = !text.is_empty()
        && bytes[text.len()..].iter().all(|b| *b == 0)
        && text.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
    if is_string {
        return format!("{:?}", String::from_utf8_lossy(text));
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
