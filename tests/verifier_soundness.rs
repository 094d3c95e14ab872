//! Soundness of the verifier, as a property: whenever ebpf-lab accepts a (generated) program, the
//! interpreter runs it on random inputs without a fault — so every access the verifier let
//! through really stays inside its region, for packets of every length, with the map entry
//! present or absent.
//!
//! No kernel needed. `EBPF_LAB_VERIFIER_SOUNDNESS_CASES` sets the number of programs.

mod verifier_common;

use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::interp::{Input, Vm};
use proptest::prelude::*;
use verifier_common::gen::{build, program, MAP, VALUE_SIZE};
use verifier_common::{ebpf_lab_verify, quietly};

fn cases() -> u32 {
    std::env::var("EBPF_LAB_VERIFIER_SOUNDNESS_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000)
}

/// One run's input: the packet, and the map's entry for key 0 (absent: the lookup gives NULL).
#[derive(Clone, Debug)]
struct RunInput {
    packet: Vec<u8>,
    entry: Option<Vec<u8>>,
}

fn run_input() -> impl Strategy<Value = RunInput> {
    (
        prop_oneof![1 => prop::collection::vec(any::<u8>(), 0..16), 2 => prop::collection::vec(any::<u8>(), 0..80)],
        prop::option::weighted(0.7, prop::collection::vec(any::<u8>(), VALUE_SIZE)),
    )
        .prop_map(|(packet, entry)| RunInput { packet, entry })
}

/// Verifies `text`; when accepted, runs it on every input. Describes the first problem.
fn check(text: &str, inputs: &[RunInput]) -> Result<(), String> {
    let program = assemble("gen.s", text, Some(Syntax::Llvm)).map_err(|e| format!("bad assembly: {e:?}\n{text}"))?;
    let v = quietly(|| ebpf_lab_verify(&program, 0)).map_err(|p| format!("ebpf-lab panicked: {p}\n{text}"))?;
    if !v.accepted() {
        return Ok(());
    }
    for input in inputs {
        let mut vm = Vm::new(&program).map_err(|e| format!("interpreter: {e}"))?;
        if let Some(value) = &input.entry {
            let map = vm.map_mut(MAP).expect("the generated map");
            map.update(&0u32.to_ne_bytes(), value, 0, 0).map_err(|e| format!("map update: {e:?}"))?;
        }
        if let Err(e) = vm.run(&Input::xdp(input.packet.clone())) {
            return Err(format!(
                "ebpf-lab accepted a program that faults on a {}-byte packet (map entry {}): {e}\n{text}",
                input.packet.len(),
                if input.entry.is_some() { "present" } else { "absent" }
            ));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 4000, ..ProptestConfig::default() })]

    #[test]
    fn accepted_programs_run_without_faults(
        (body, pro) in program(),
        inputs in prop::collection::vec(run_input(), 8),
    ) {
        let result = check(&build(&body, &pro), &inputs);
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}
