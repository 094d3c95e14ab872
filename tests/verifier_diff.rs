//! Differential property test of the verifier: random XDP programs that touch the stack, a map
//! value and the packet — with and without NULL checks and bounds checks, through pointer
//! arithmetic with constant and variable offsets, under forward branches — verified by the kernel
//! and by ebpf-lab. The verdicts must agree, and for rejections so must the instruction.
//!
//! Unlike `kernel_diff.rs`, whose programs the kernel accepts by construction, these land on
//! both sides of the line (about a quarter accepted): see `verifier_common/gen.rs`.
//!
//! `EBPF_LAB_VERIFIER_DIFF_CASES` sets the number of programs (default sized for CI).

mod verifier_common;

use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::kernel;
use ebpf_lab::verifier::VerifyOptions;
use proptest::prelude::*;
use verifier_common::gen::{build, program};
use verifier_common::{ebpf_lab_verify, kernel_verdict, quietly, verdict_of, Verdict};

fn cases() -> u32 {
    std::env::var("EBPF_LAB_VERIFIER_DIFF_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(3000)
}

/// Verifies with both; describes any disagreement.
fn compare(text: &str) -> Result<(), String> {
    let program =
        assemble("gen.s", text, Some(Syntax::Llvm)).map_err(|e| format!("generated bad assembly: {e:?}\n{text}"))?;
    let (kernel, _) = kernel_verdict(&program, 0)?;
    let ours =
        verdict_of(&ebpf_lab_verify(&program, VerifyOptions::default()).map_err(|p| format!("ebpf-lab {p}\n{text}"))?);
    agreement(&program, &kernel, &ours)
}

/// Whether the two verdicts on `program` agree (the same verdict, and for rejections the same
/// instruction where the kernel names one); otherwise both, with the program.
fn agreement(program: &ebpf_lab::program::Program, kernel: &Verdict, ours: &Verdict) -> Result<(), String> {
    let agree = match (kernel, ours) {
        (Verdict::Accept, Verdict::Accept) => true,
        (Verdict::Reject { insn: None, .. }, Verdict::Reject { .. }) => true,
        (Verdict::Reject { insn: a, .. }, Verdict::Reject { insn: b, .. }) => a == b,
        _ => false,
    };
    if agree {
        Ok(())
    } else {
        let text = ebpf_lab::asm::disasm::disassemble(program, Syntax::Llvm);
        Err(format!("kernel: {kernel}\nebpf-lab: {ours}\n{text}"))
    }
}

/// Counts one more case under `key`, keeping the shortest `example`.
fn tally(map: &mut std::collections::BTreeMap<String, (u32, String)>, key: String, example: &str) {
    let e = map.entry(key).or_insert_with(|| (0, example.to_string()));
    e.0 += 1;
    if example.len() < e.1.len() {
        e.1 = example.to_string();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), max_shrink_iters: 4000, ..ProptestConfig::default() })]

    #[test]
    fn verifier_and_kernel_agree_on_random_programs(
        (body, pro) in program(),
    ) {
        if !kernel::require_or_skip("verifier_and_kernel_agree_on_random_programs") {
            return Ok(());
        }
        let result = compare(&build(&body, &pro));
        prop_assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}

/// The long hunt, by hand: `EBPF_LAB_VERIFIER_HUNT=N` verifies N random programs with both and,
/// rather than stopping at the first disagreement as proptest does, counts them by the kernel's
/// message and prints the smallest example of each, then fails if there was any. It also counts
/// rejections where only the first message line differs.
#[test]
fn hunt() {
    let Some(n) = std::env::var("EBPF_LAB_VERIFIER_HUNT").ok().and_then(|v| v.parse::<u32>().ok()) else {
        return;
    };
    if !kernel::require_or_skip("verifier hunt") {
        return;
    }
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::default();
    let strategy = program();
    let mut accepted = 0;
    let mut found: std::collections::BTreeMap<String, (u32, String)> = Default::default();
    // Same verdict and instruction, other words: reported, not failed (the corpus holds the
    // messages to account).
    let mut worded_differently: std::collections::BTreeMap<String, (u32, String)> = Default::default();
    for _ in 0..n {
        let (body, pro) = strategy.new_tree(&mut runner).expect("a program").current();
        let text = build(&body, &pro);
        let program = assemble("gen.s", &text, Some(Syntax::Llvm)).unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        let (kernel, _) = kernel_verdict(&program, 0).expect("kernel load");
        accepted += u32::from(kernel == Verdict::Accept);
        // Each side verifies the program once; a panic in ebpf-lab's verifier is a disagreement.
        let verdicts = quietly(|| ebpf_lab_verify(&program, VerifyOptions::default()))
            .map(|v| verdict_of(&v))
            .map_err(|p| format!("ebpf-lab {p}\n{text}"));
        if let (Verdict::Reject { message: theirs, .. }, Ok(Verdict::Reject { message, .. })) = (&kernel, &verdicts) {
            if message != theirs {
                tally(&mut worded_differently, format!("{theirs}\n    ebpf-lab: {message}"), &text);
            }
        }
        if let Err(why) = verdicts.and_then(|ours| agreement(&program, &kernel, &ours)) {
            let key = match &kernel {
                Verdict::Accept => "kernel accepts".to_string(),
                Verdict::Reject { message, .. } => message.chars().take(48).collect(),
            };
            tally(&mut found, key, &why);
        }
    }
    let total: u32 = found.values().map(|(c, _)| c).sum();
    println!("verifier hunt: {n} programs, kernel accepted {accepted}, disagreements {total}");
    let reworded: u32 = worded_differently.values().map(|(c, _)| c).sum();
    println!("rejections worded differently: {reworded}");
    for (pair, (count, example)) in &worded_differently {
        println!("  {count} x kernel: {pair}\n{example}");
    }
    for (key, (count, example)) in &found {
        println!("--- {count} x {key}\n{example}");
    }
    assert_eq!(total, 0, "{total} disagreements (see above)");
}
