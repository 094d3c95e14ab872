//! Bytecode decoding: a program or a decode error, never a panic; a decoded program encodes
//! back to bytes that decode to the same instructions.
#![no_main]
use ebpf_lab::program::Program;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(p) = Program::from_bytes(bytes) {
        let again = Program::from_bytes(&p.to_bytes()).expect("an encoded program decodes");
        assert_eq!(again.insns, p.insns);
    }
});
