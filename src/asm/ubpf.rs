//! STUB — being written. Parsing and printing of one instruction in this syntax.

use super::disasm::FormatCtx;
use super::{AsmError, Stmt};
use crate::isa::Insn;

/// Parses one instruction statement (comments, labels and directives already removed).
/// `offset` is the byte offset of `text` in the file, for error spans.
pub fn parse_insn(text: &str, offset: usize) -> Result<Stmt, AsmError> {
    Err(AsmError::new(offset..offset + text.len(), "not implemented"))
}

/// Formats one instruction in this syntax, in a form `parse_insn` reads back.
pub fn format_insn(insn: &Insn, _ctx: &FormatCtx) -> String {
    format!("{insn:?}")
}
