//! BTF function info for programs that have none: the kernel refuses a callback (`bpf_loop`,
//! `bpf_for_each_map_elem`: `lddw rX, func`) without `func_info` ("missing btf func_info"), and
//! an assembled program has no BTF. So the loader writes the minimal BTF clang `-g` would: one
//! `int` type, one `int (void)` prototype, and one `FUNC` per function of the program (the main
//! one global, the others static, as callbacks must be), named after the label that starts it
//! when the source has one. Only programs with callbacks get it: BTF changes other verdicts
//! (tail calls in subprograms), and those the kernel gives as written.
//!
//! Also [`shifted`]: a program's BTF records for the program inside the r0 [`super::wrapper`].

use crate::isa::{ImmSrc, Insn};
use crate::program::{Program, ProgramBtf};

const BTF_MAGIC: u16 = 0xeb9f;
const KIND_INT: u32 = 1;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const BTF_INT_SIGNED: u32 = 1 << 24;
const LINKAGE_STATIC: u32 = 0;
const LINKAGE_GLOBAL: u32 = 1;

/// True when the program loads a function's address (a callback).
pub fn has_callbacks(program: &Program) -> bool {
    program.insns.iter().any(|i| matches!(i, Insn::LoadImm64 { src: ImmSrc::Func, .. }))
}

/// The BTF the kernel gets for `program`: its own, or for a program with callbacks and none,
/// the minimal one described in the module docs.
pub fn for_program(program: &Program) -> Option<ProgramBtf> {
    if program.btf.is_some() || !has_callbacks(program) {
        return program.btf.clone();
    }
    Some(synthesize(program))
}

/// The slots where the kernel sees functions start: 0 and every target of a local call or of a
/// function address (`add_subprog`), in order.
fn function_starts(program: &Program) -> Vec<usize> {
    let pcs = program.slot_pcs();
    let mut starts: Vec<usize> = program
        .insns
        .iter()
        .zip(&pcs)
        .filter(|(i, _)| {
            matches!(i, Insn::Call(crate::isa::CallTarget::Local(_)) | Insn::LoadImm64 { src: ImmSrc::Func, .. })
        })
        .filter_map(|(i, &pc)| usize::try_from(pc as i64 + 1 + i.branch_offset()?).ok())
        .collect();
    starts.push(0);
    starts.sort_unstable();
    starts.dedup();
    starts
}

/// The label just before the instruction at slot `slot`, when the source has one that is a C
/// identifier (BTF names must be).
fn label_at(program: &Program, slot: usize) -> Option<String> {
    let source = program.source.as_ref()?;
    let index = program.slot_pcs().iter().position(|&pc| pc == slot)?;
    let before = source.text.get(..program.span(index)?.start)?.trim_end();
    let label = before.strip_suffix(':')?;
    let name: String = label.chars().rev().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let name: String = name.chars().rev().collect();
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_').then_some(name)
}

/// Minimal BTF with one `FUNC` per function start.
fn synthesize(program: &Program) -> ProgramBtf {
    let starts = function_starts(program);
    let mut strings = b"\0int\0".to_vec();
    let mut types: Vec<u32> = Vec::new();
    // [1] int: 4 bytes, signed, 32 bits.
    types.extend([1, KIND_INT << 24, 4, BTF_INT_SIGNED | 32]);
    // [2] int (void).
    types.extend([0, KIND_FUNC_PROTO << 24, 1]);
    let mut func_info = Vec::new();
    let mut used: Vec<String> = Vec::new();
    for (k, &slot) in starts.iter().enumerate() {
        let fallback = if k == 0 { "main".to_string() } else { format!("func_{slot}") };
        let mut name = label_at(program, slot).unwrap_or(fallback);
        if used.contains(&name) {
            name = format!("{name}_{slot}");
        }
        let name_off = strings.len() as u32;
        strings.extend_from_slice(name.as_bytes());
        strings.push(0);
        used.push(name);
        let linkage = if k == 0 { LINKAGE_GLOBAL } else { LINKAGE_STATIC };
        types.extend([name_off, KIND_FUNC << 24 | linkage, 2]);
        func_info.push([slot as u32, 3 + k as u32]);
    }
    let type_bytes: Vec<u8> = types.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut blob = Vec::with_capacity(24 + type_bytes.len() + strings.len());
    blob.extend(BTF_MAGIC.to_le_bytes());
    blob.extend([1u8, 0]);
    for w in [24u32, 0, type_bytes.len() as u32, type_bytes.len() as u32, strings.len() as u32] {
        blob.extend(w.to_le_bytes());
    }
    blob.extend(type_bytes);
    blob.extend(strings);
    ProgramBtf { blob, func_info, line_info: Vec::new() }
}

/// `btf` for the program placed `shift` slots into the wrapper: every record moves by the shift
/// but the main function's, which the wrapper's code joins (it starts at slot 0); the first line
/// record is repeated at slot 0, since the kernel wants each function's lines to start with it.
pub fn shifted(btf: &ProgramBtf, shift: usize) -> ProgramBtf {
    let shift = shift as u32;
    let func_info =
        btf.func_info.iter().enumerate().map(|(k, f)| [if k == 0 { 0 } else { f[0] + shift }, f[1]]).collect();
    let mut line_info: Vec<[u32; 4]> = btf.line_info.iter().map(|l| [l[0] + shift, l[1], l[2], l[3]]).collect();
    if let Some(first) = line_info.first().copied().filter(|l| l[0] != 0) {
        line_info.insert(0, [0, first[1], first[2], first[3]]);
    }
    ProgramBtf { blob: btf.blob.clone(), func_info, line_info }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asm::{assemble, Syntax};

    fn program(src: &str) -> Program {
        assemble("t.s", src, Some(Syntax::Llvm)).unwrap()
    }

    #[test]
    fn only_programs_with_callbacks_get_made_up_btf() {
        assert_eq!(for_program(&program("call f\nexit\nf:\nr0 = 0\nexit\n")), None);
        let p = program("r2 = func(add_one) ll\ncall f\nexit\nf:\nr0 = 0\nexit\nadd_one:\nr0 = 0\nexit\n");
        let btf = for_program(&p).unwrap();
        // Functions at slots 0, 4 (f) and 6 (add_one), typed FUNC 3, 4, 5.
        assert_eq!(btf.func_info, vec![[0, 3], [4, 4], [6, 5]]);
        let strings = String::from_utf8_lossy(&btf.blob[24 + 4 * (4 + 3 + 3 * 3)..]).to_string();
        assert_eq!(strings, "\0int\0main\0f\0add_one\0");
        // Inside the wrapper, the main function stays at 0 and the others move.
        let moved = shifted(&btf, 5);
        assert_eq!(moved.func_info, vec![[0, 3], [9, 4], [11, 5]]);
    }
}
