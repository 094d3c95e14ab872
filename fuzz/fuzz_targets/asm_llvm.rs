//! Assembly text in the kernel/LLVM syntax: a program or errors, never a panic, and the errors
//! render (with their snippets) without one either.
#![no_main]
use ebpf_lab::asm::{assemble, Syntax};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Err(e) = assemble("f.s", text, Some(Syntax::Llvm)) {
        let diags: Vec<_> = e.errors.iter().map(ebpf_lab::diag::Diagnostic::from).collect();
        let _ = ebpf_lab::diag::render_all(Some(&e.source), &diags, false);
    }
});
