//! `verify --html FILE`: writes the verifier report page (see [`crate::report`]).

use super::{Ctx, EXIT_INPUT};
use crate::diag::{self, Diagnostic};
use crate::interp::Input;
use crate::kernel::{KernelEngine, LoadOptions};
use crate::program::Program;
use crate::report::{html, Model};
use std::path::Path;

/// Verifies `program` again with states kept (and, when accepted and the kernel is available,
/// loads it there for the kernel's processed count) and writes the page to `out`; says where on
/// standard error (standard output stays the verdict, or the JSON).
pub fn write_html(ctx: &Ctx, program: &Program, input: &Input, file: &Path, out: &Path) -> Result<(), i32> {
    let mem_len = super::verify::options_for(input, 0).mem_len;
    let mut model = Model::build(program, mem_len);
    // Beside ours, the kernel's count for an accepted program, when the kernel is at hand.
    if model.verification.accepted() && crate::kernel::availability().is_ok() {
        model.kernel_processed = KernelEngine::load(program, &LoadOptions::default(), input)
            .ok()
            .and_then(|k| k.kernel_program().verdict().verified_insns.map(u64::from));
    }
    let name = file.file_name().map_or_else(|| file.display().to_string(), |n| n.to_string_lossy().into_owned());
    match super::write_atomic(out, html::render(&model, &name).as_bytes()) {
        Ok(()) => {
            eprintln!("report written to {}", out.display());
            Ok(())
        }
        Err(e) => {
            let d = Diagnostic::error(format!("cannot write the report to {}: {e}", out.display()), None)
                .with_help(Some("choose a writable path for --html".into()));
            eprint!("{}", diag::render(None, &d, ctx.color_err));
            Err(EXIT_INPUT)
        }
    }
}
