//! The disassembler: bytecode or a [`Program`] back to text in either syntax, one instruction per
//! line, in a form the assembler reads back (`assemble(disassemble(p)) == p`).

use super::{llvm, ubpf, Syntax};
use crate::program::{MapDef, Program};

/// What a syntax's printer may consult besides the instruction itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct FormatCtx<'a> {
    /// Declared maps, so `lddw` map references print by name.
    pub maps: &'a [MapDef],
}

/// Formats one instruction in `syntax` (no index, no newline).
pub fn format_insn(insn: &crate::isa::Insn, syntax: Syntax, ctx: &FormatCtx) -> String {
    match syntax {
        Syntax::Llvm => llvm::format_insn(insn, ctx),
        Syntax::Ubpf => ubpf::format_insn(insn, ctx),
    }
}

/// Disassembles a program: directives for its type and maps, then one line per instruction,
/// each prefixed with its slot index (`  12: r0 = 1`) — the assembler skips such prefixes.
pub fn disassemble(program: &Program, syntax: Syntax) -> String {
    let mut out = String::new();
    if program.prog_type != Default::default() {
        out.push_str(&format!(".prog {}\n", program.prog_type));
    }
    for m in &program.maps {
        out.push_str(&format!(
            ".map {} {} key={} value={} max={}{}\n",
            m.name,
            m.map_type.name(),
            m.key_size,
            m.value_size,
            m.max_entries,
            if m.flags != 0 { format!(" flags={:#x}", m.flags) } else { String::new() }
        ));
    }
    let ctx = FormatCtx { maps: &program.maps };
    let pcs = program.slot_pcs();
    let width = pcs.last().copied().unwrap_or(0).max(1).to_string().len();
    for (insn, pc) in program.insns.iter().zip(&pcs) {
        let text = format_insn(insn, syntax, &ctx);
        // Name helpers in a comment: the number is what the bytecode holds, the name what a
        // reader needs (the assembler skips the comment).
        match insn {
            crate::isa::Insn::Call(crate::isa::CallTarget::Helper(id)) => match super::helper_names::helper_name(*id) {
                Some(name) => out.push_str(&format!("{pc:>width$}: {text:<24} # {name}\n")),
                None => out.push_str(&format!("{pc:>width$}: {text}\n")),
            },
            _ => out.push_str(&format!("{pc:>width$}: {text}\n")),
        }
    }
    out
}
