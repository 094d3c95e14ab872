//! The interpreter on any decodable program, with a small budget: a result or a runtime error,
//! never a panic or an out-of-bounds access (run under AddressSanitizer by cargo-fuzz).
//!
//! Input: byte 0 picks the program type and the memory size, the rest is bytecode. The program
//! gets a prog array, an array and a hash map (map indices 0, 1, 2), and is its own tail-call
//! target in slot 0, so tail calls from any frame depth are reached.
#![no_main]
use ebpf_lab::interp::{Input, RunOptions, SkbFields, Vm};
use ebpf_lab::program::{MapDef, MapType, ProgType, Program};
use libfuzzer_sys::fuzz_target;

fn map(name: &str, map_type: MapType, key_size: u32, value_size: u32) -> MapDef {
    MapDef { name: name.into(), map_type, key_size, value_size, max_entries: 4, flags: 0, extra: Default::default() }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, code)) = data.split_first() else { return };
    let Ok(mut p) = Program::from_bytes(code) else { return };
    p.maps =
        vec![map("progs", MapType::ProgArray, 4, 4), map("arr", MapType::Array, 4, 8), map("h", MapType::Hash, 8, 8)];
    let mem: Vec<u8> = (0..(pick >> 2) as u8).collect();
    let (prog_type, input) = match pick & 3 {
        0 | 1 => (ProgType::Mem, Input::mem(mem)),
        2 => (ProgType::Xdp, Input::xdp(vec![0x11; 64])),
        _ => (ProgType::Socket, Input::skb(vec![0x22; 64], SkbFields::default())),
    };
    p.prog_type = prog_type;
    let options = RunOptions { budget: 10_000, ..RunOptions::default() };
    let Ok(mut vm) = Vm::with_options(&p, options) else { return };
    if let Ok(t) = vm.add_program(&p) {
        if let Some(progs) = vm.map_mut("progs") {
            let _ = progs.user_update(&0u32.to_le_bytes(), &t.to_le_bytes(), 0);
        }
    }
    let _ = vm.run(&input);
    // A second run starts from a clean state.
    let _ = vm.run(&input);
});
