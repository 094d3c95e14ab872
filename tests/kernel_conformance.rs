//! The conformance suite through the real kernel: every program the kernel accepts runs there,
//! and its full 64-bit r0 must equal both the suite's expected result and ebpf-lab's
//! interpreter. Programs the kernel refuses are counted by reason (the last line of the log).

use ebpf_lab::conformance;
use ebpf_lab::interp::{Input, Vm};
use ebpf_lab::kernel::{self, KernelInput, KernelProgram, LoadOptions};
use std::collections::BTreeMap;

#[test]
fn conformance_suite_in_the_kernel_agrees_with_the_interpreter() {
    let Some(dir) = conformance::suite_dir() else {
        println!("skipping: conformance data not found at ../shared/conformance");
        return;
    };
    if !kernel::require_or_skip("conformance_suite_in_the_kernel") {
        return;
    }
    let cases = conformance::load_dir(&dir.join("bpf_conformance")).expect("suite readable");
    let (mut ran, mut refused, mut run_errors) = (0, BTreeMap::<String, Vec<String>>::new(), Vec::new());
    let mut disagreements = Vec::new();
    for case in &cases {
        let Some(expected) = case.result else { continue };
        let program = conformance::program(case).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let opts = LoadOptions { mem_len: case.mem.len() as u32, log_level: 1, ..Default::default() };
        let mut k = KernelProgram::load(&program, &opts).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        if !k.verdict().accepted() {
            let reason = k.verdict().log.lines().rev().find(|l| !l.starts_with("processed") && !l.trim().is_empty());
            let reason = reason.unwrap_or("no log").to_string();
            // Collapse register numbers and offsets so reasons group.
            let key: String = reason.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect();
            refused.entry(key).or_default().push(case.name.clone());
            continue;
        }
        let run = match k.run(&program, &KernelInput { ctx: Some(&case.mem), packet: None }) {
            Ok(run) => run,
            Err(e) => {
                run_errors.push(format!("{}: {e}", case.name));
                continue;
            }
        };
        ran += 1;
        let mask = if run.r0_bits == 64 { u64::MAX } else { u32::MAX as u64 };
        let interp = Vm::new(&program).and_then(|mut vm| vm.run(&Input::mem(case.mem.clone()))).map(|o| o.r0);
        if run.r0 != expected & mask {
            disagreements.push(format!("{}: kernel r0 {:#x}, suite expects {:#x}", case.name, run.r0, expected));
        }
        match interp {
            Ok(r0) if r0 & mask == run.r0 => {}
            other => disagreements.push(format!("{}: kernel r0 {:#x}, interpreter {other:?}", case.name, run.r0)),
        }
    }
    let refused_total: usize = refused.values().map(Vec::len).sum();
    println!(
        "kernel conformance: {ran} ran and agreed-checked, {refused_total} refused by the verifier, {} failed to run",
        run_errors.len()
    );
    for (reason, names) in &refused {
        println!("  refused ({}): {reason}  e.g. {}", names.len(), names[..names.len().min(3)].join(", "));
    }
    for e in &run_errors {
        println!("  run error: {e}");
    }
    // 300 on Linux 6.18: the 13 others shift by a constant out of range or use callx, which
    // the kernel refuses by rule.
    assert!(ran >= 300, "too few conformance programs ran in the kernel: {ran}");
    assert!(run_errors.is_empty(), "programs the kernel accepted but could not run: {run_errors:#?}");
    assert!(disagreements.is_empty(), "disagreements:\n{}", disagreements.join("\n"));
}
