//! Runs every program of the bpf_conformance suite on the interpreter and on the JIT and
//! compares all 64 bits of r0 with the expected `-- result` (the reference runner compares only
//! the low 32 bits).

use ebpf_lab::conformance::{load_dir, program, suite_dir};
use ebpf_lab::engine::{self, EngineOptions};
use ebpf_lab::interp::Input;

#[test]
fn conformance_suite_passes_on_the_interpreter() {
    suite_passes_on("interp");
}

#[test]
fn conformance_suite_passes_on_the_jit() {
    suite_passes_on("jit");
}

fn suite_passes_on(engine_name: &str) {
    let Some(dir) = suite_dir() else {
        println!("skipped: conformance data not found (../shared/conformance)");
        return;
    };
    let cases = load_dir(&dir.join("bpf_conformance")).expect("suite readable");
    assert!(cases.len() >= 300, "expected the full suite, found {} cases", cases.len());
    let mut failures = Vec::new();
    let mut passed = 0;
    for case in &cases {
        let outcome = program(case).and_then(|p| {
            let input = Input::mem(case.mem.clone());
            let mut vm = engine::open(engine_name, &p, &EngineOptions::default(), &input).map_err(|e| e.to_string())?;
            vm.run(&input).map(|r| r.outcome).map_err(|e| e.to_string())
        });
        let ok = match (&case.error, case.result, &outcome) {
            (Some(want), _, Err(got)) => loosely_matches(got, want),
            (Some(_), _, Ok(_)) => false,
            (None, Some(want), Ok(out)) => out.r0 == want,
            (None, _, _) => false,
        };
        if ok {
            passed += 1;
        } else {
            failures.push(format!(
                "{}: expected {:?}/{:?}, got {:?}",
                case.name,
                case.result,
                case.error,
                outcome.map(|o| o.r0)
            ));
        }
    }
    println!("conformance on {engine_name}: {passed}/{} passed", cases.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Error texts differ between implementations; accept when any word of the expected text
/// appears in ours (case-insensitive).
fn loosely_matches(got: &str, want: &str) -> bool {
    let got = got.to_lowercase();
    want.split_whitespace().any(|w| w.len() > 3 && got.contains(&w.to_lowercase()))
}
