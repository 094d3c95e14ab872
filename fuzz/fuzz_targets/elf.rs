//! ELF objects: a program or an error naming the file, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Err(e) = ebpf_lab::elf::program_from_elf("f.o", bytes, None) {
        assert!(e.to_string().starts_with("f.o: "), "{e}");
    }
});
