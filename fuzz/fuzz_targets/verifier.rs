//! The static verifier on any decodable `mem` program: it never panics and always answers; a
//! program it accepts never faults in the interpreter, on random inputs of the verified length.
//!
//! Input: byte 0 is the buffer length (0..=63), byte 1 seeds the buffers, the rest is bytecode.
//! The verifier gives up after 20,000 processed instructions, not the kernel's 1,000,000: a
//! path explosion is found as well at either limit, and at the kernel's one each such input
//! cost the fuzzer seconds (13 executions per second in all).
#![no_main]
use ebpf_lab::interp::{ErrorKind, Input, RunOptions, Vm};
use ebpf_lab::program::Program;
use ebpf_lab::verifier::{verify, VerifyOptions};
use libfuzzer_sys::fuzz_target;

/// Processed instructions before the verifier gives up.
const INSN_LIMIT: u64 = 20_000;

/// A pseudo-random byte (splitmix64 of the seed, round and position): the buffers look random
/// to the program but an input replays exactly.
fn byte(seed: u8, round: u8, i: usize) -> u8 {
    let mut z = (u64::from(seed) << 40 | u64::from(round) << 32 | i as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as u8
}

fuzz_target!(|data: &[u8]| {
    let [len, seed, code @ ..] = data else { return };
    let Ok(p) = Program::from_bytes(code) else { return };
    let mem_len = u32::from(len & 63);
    let options = VerifyOptions { mem_len, insn_limit: Some(INSN_LIMIT), ..VerifyOptions::default() };
    let verdict = verify(&p, &options);
    assert!(verdict.stats.processed <= INSN_LIMIT + 1, "explored past the limit: {:?}", verdict.stats);
    if verdict.error.is_some() {
        return;
    }
    let options = RunOptions { budget: 200_000, ..RunOptions::default() };
    let Ok(mut vm) = Vm::with_options(&p, options) else { return };
    // Round 0 is all zeros, the others random; each run starts from the maps the last left.
    for round in 0..4u8 {
        let mem: Vec<u8> = (0..mem_len as usize).map(|i| if round == 0 { 0 } else { byte(*seed, round, i) }).collect();
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
