//! The static verifier on any decodable `mem` program: it never panics and always answers; a
//! program it accepts never faults in the interpreter, on a few inputs of the verified length.
//!
//! Input: byte 0 is the buffer length (0..=63), byte 1 seeds the buffers, the rest is bytecode.
#![no_main]
use ebpf_lab::interp::{ErrorKind, Input, RunOptions, Vm};
use ebpf_lab::program::Program;
use ebpf_lab::verifier::{verify, VerifyOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [len, seed, code @ ..] = data else { return };
    let Ok(p) = Program::from_bytes(code) else { return };
    let mem_len = u32::from(len & 63);
    let verdict = verify(&p, &VerifyOptions { log_level: 0, mem_len, ..VerifyOptions::default() });
    if verdict.error.is_some() {
        return;
    }
    let options = RunOptions { budget: 1_000_000, ..RunOptions::default() };
    let Ok(mut vm) = Vm::with_options(&p, options) else { return };
    for round in 0..4u8 {
        let mem: Vec<u8> = (0..mem_len as u8).map(|i| i.wrapping_mul(*seed).wrapping_add(round)).collect();
        if let Err(e) = vm.run(&Input::mem(mem)) {
            // The verifier accepts helpers ebpf-lab knows only by name (as the kernel would); the
            // interpreter cannot run those, which is no fault of the program.
            let unimplemented = matches!(&e.kind, ErrorKind::HelperFault { id, .. }
                if u32::try_from(*id).ok().and_then(ebpf_lab::runtime::helpers::helper).is_some_and(|h| h.imp.is_none()));
            assert!(
                unimplemented || matches!(e.kind, ErrorKind::BudgetExhausted { .. }),
                "accepted, then faulted: {e}"
            );
        }
    }
});
