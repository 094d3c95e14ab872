//! Disassemble, reassemble: any decodable program, printed in either syntax and assembled
//! back (the syntax detected from the text), gives the identical bytes.
#![no_main]
use ebpf_lab::asm::{assemble, disasm::disassemble, Syntax};
use ebpf_lab::program::Program;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let Ok(p) = Program::from_bytes(bytes) else { return };
    let canonical = p.to_bytes();
    for syntax in [Syntax::Llvm, Syntax::Ubpf] {
        let text = disassemble(&p, syntax);
        let back = assemble("f.s", &text, None).unwrap_or_else(|e| panic!("{syntax:?}:\n{text}\n{:?}", e.errors));
        assert_eq!(back.to_bytes(), canonical, "{syntax:?}:\n{text}");
    }
});
