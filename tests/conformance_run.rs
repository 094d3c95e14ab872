//! Runs every program of the bpf_conformance suite on the interpreter and compares all 64 bits
//! of r0 with the expected `-- result` (the reference runner compares only the low 32 bits).

use ebpf_lab::conformance::{load_dir, program, suite_dir};
use ebpf_lab::interp::{Input, Vm};

#[test]
fn conformance_suite_passes() {
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
            let mut vm = Vm::new(&p).map_err(|e| e.to_string())?;
            vm.run(&Input::mem(case.mem.clone())).map_err(|e| e.to_string())
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
    println!("conformance: {passed}/{} passed", cases.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Error texts differ between implementations; accept when any word of the expected text
/// appears in ours (case-insensitive).
fn loosely_matches(got: &str, want: &str) -> bool {
    let got = got.to_lowercase();
    want.split_whitespace().any(|w| w.len() > 3 && got.contains(&w.to_lowercase()))
}
