//! The JIT against the interpreter on any decodable program, with a small budget: the same r0,
//! packet, context, printed lines and map contents, or the same error at the same instruction.
//!
//! Input: byte 0 picks the program type and the memory size (as in the `interp` target, whose
//! corpus seeds this one), then the bytecode; the 0–7 bytes past the last whole instruction
//! fill the memory or packet. The program gets a prog array, an array and a hash map (map
//! indices 0, 1, 2) and is its own tail-call target in slot 0 of both engines.
//!
//! The budget is where the engines may part by design: the JIT charges only taken back-edges
//! (a loop's whole span) and calls, so it may run out earlier than the interpreter in a loop
//! that skips part of its body, or later (or never) in straight-line code. A run in which
//! either engine exhausts the budget ends the comparison of that input.
#![no_main]
use ebpf_lab::interp::{ErrorKind, Input, RunOptions, RunOutcome, RuntimeError, SkbFields, Vm};
use ebpf_lab::jit::JitVm;
use ebpf_lab::program::{MapDef, MapType, ProgType, Program};
use libfuzzer_sys::fuzz_target;

fn map(name: &str, map_type: MapType, key_size: u32, value_size: u32) -> MapDef {
    MapDef { name: name.into(), map_type, key_size, value_size, max_entries: 4, flags: 0, extra: Default::default() }
}

fn out_of_budget(r: &Result<RunOutcome, RuntimeError>) -> bool {
    matches!(r, Err(e) if matches!(e.kind, ErrorKind::BudgetExhausted { .. }))
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let (code, fill) = rest.split_at(rest.len() & !7);
    let Ok(mut p) = Program::from_bytes(code) else { return };
    p.maps =
        vec![map("progs", MapType::ProgArray, 4, 4), map("arr", MapType::Array, 4, 8), map("h", MapType::Hash, 8, 8)];
    let bytes = |n: usize| -> Vec<u8> {
        (0..n).map(|i| fill.get(i % fill.len().max(1)).map_or(i as u8, |b| b ^ (i as u8))).collect()
    };
    let (prog_type, input) = match pick & 3 {
        0 | 1 => (ProgType::Mem, Input::mem(bytes(usize::from(pick >> 2)))),
        2 => (ProgType::Xdp, Input::xdp(bytes(64))),
        _ => (ProgType::Socket, Input::skb(bytes(64), SkbFields::default())),
    };
    p.prog_type = prog_type;
    let options = RunOptions { budget: 10_000, ..RunOptions::default() };
    let (interp, jit) = (Vm::with_options(&p, options.clone()), JitVm::with_options(&p, options));
    let (mut interp, mut jit) = match (interp, jit) {
        (Ok(i), Ok(j)) => (i, j),
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "both engines refuse the program, differently");
            return;
        }
        (Ok(mut i), Err(b)) => {
            // A structural refusal at compile time is the interpreter's run-time error.
            assert_eq!(i.run(&input).err(), Some(b), "only the JIT refuses the program");
            return;
        }
        (Err(a), Ok(_)) => panic!("only the interpreter refuses the program: {a}"),
    };
    let (ti, tj) = (interp.add_program(&p), jit.add_program(&p));
    assert_eq!(ti.as_ref().ok(), tj.as_ref().ok(), "tail-call target: {ti:?} vs {tj:?}");
    if let Ok(t) = ti {
        let slot = (0u32.to_le_bytes(), t.to_le_bytes());
        let a = interp.map_mut("progs").map(|m| m.user_update(&slot.0, &slot.1, 0));
        let b = jit.map_mut("progs").map(|m| m.user_update(&slot.0, &slot.1, 0));
        assert_eq!(a, b, "filling the prog array");
    }
    // Twice: the second run starts from the maps the first left.
    for round in 0..2 {
        let (a, b) = (interp.run(&input), jit.run(&input));
        if out_of_budget(&a) || out_of_budget(&b) {
            return;
        }
        match (&a, &b) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a.r0, b.r0, "run {round}: r0");
                assert_eq!(a.packet_out, b.packet_out, "run {round}: packet");
                assert_eq!(a.ctx_out, b.ctx_out, "run {round}: context");
                assert_eq!(a.trace_lines(), b.trace_lines(), "run {round}: trace_printk");
            }
            (Err(a), Err(b)) => assert_eq!(a, b, "run {round}: error"),
            _ => panic!("run {round}: interpreter {a:?}\n jit {b:?}"),
        }
        for m in ["arr", "h"] {
            let (a, b) = (interp.map(m).map(|m| m.entries()), jit.map(m).map(|m| m.entries()));
            assert_eq!(a, b, "run {round}: map {m}");
        }
    }
});
