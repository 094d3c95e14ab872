//! The verifier engine on hand-written programs: verdicts, messages and the instruction named,
//! plus (behind `EBPF_LAB_VERIFIER_REPORT=1`) a per-file report over the corpus for debugging.

use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::verifier::{verify, VerifyOptions};

fn check(text: &str, mem_len: u32) -> ebpf_lab::verifier::Verification {
    let p = assemble("t.s", text, Some(Syntax::Llvm)).expect("assembles");
    verify(&p, &VerifyOptions { mem_len, ..VerifyOptions::default() })
}

/// With `EBPF_LAB_VERIFIER_REPORT=DIR`, prints each corpus file's header next to ebpf-lab's verdict.
#[test]
fn corpus_report() {
    let Ok(dir) = std::env::var("EBPF_LAB_VERIFIER_REPORT") else { return };
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "s") {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        let head = |k: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(';')?.trim_start().strip_prefix(k)?.strip_prefix(':').map(str::trim))
        };
        let mem_len = head("mem_len").and_then(|v| v.parse().ok()).unwrap_or(0);
        let expect = head("expect").unwrap_or("?").to_string();
        let t = std::time::Instant::now();
        let v = check(&text, mem_len);
        let got = match &v.error {
            None => "accept".to_string(),
            Some(e) => format!(
                "reject insn={} \"{}\"",
                e.insn.map_or("-".into(), |i| i.to_string()),
                e.message.lines().next().unwrap_or("")
            ),
        };
        let same =
            got == expect || (expect.starts_with("reject \"") && got.ends_with(expect.trim_start_matches("reject ")));
        println!(
            "{} {} [{:?} {}]\n    expect {expect}\n    got    {got}",
            if same { "OK  " } else { "DIFF" },
            f.display(),
            t.elapsed(),
            v.stats.processed
        );
    }
}

#[test]
fn uninitialised_register_is_refused_on_its_instruction() {
    let v = check(".prog xdp\n r0 = 0\n r0 += r3\n exit\n", 0);
    let e = v.error.expect("rejected");
    assert_eq!(e.message, "R3 !read_ok");
    assert_eq!(e.insn, Some(1));
}

#[test]
fn pointer_arithmetic_is_refused_in_the_kernels_words() {
    let e = check(".prog xdp\n r1 &= 1\n r0 = 0\n exit\n", 0).error.expect("rejected");
    assert_eq!(e.message, "R1 bitwise operator &= on pointer prohibited");
    let e = check(".prog xdp\n r2 = r1\n r2 += r1\n r0 = 0\n exit\n", 0).error.expect("rejected");
    assert_eq!(e.message, "R2 pointer += pointer prohibited");
}

#[test]
fn packet_bytes_are_readable_only_after_a_bounds_check() {
    let checked = ".prog xdp
    r2 = *(u32 *)(r1 + 0)
    r3 = *(u32 *)(r1 + 4)
    r4 = r2
    r4 += 14
    if r4 > r3 goto out
    r0 = *(u8 *)(r2 + 13)
out:
    r0 = 2
    exit
";
    assert!(check(checked, 0).accepted());
    let past = checked.replace("(r2 + 13)", "(r2 + 14)");
    let e = check(&past, 0).error.expect("rejected");
    assert_eq!(e.message, "invalid access to packet, off=14 size=1, R2(id=0,off=14,r=14)");
    assert_eq!(e.insn, Some(5));
    assert_eq!(e.path.len(), 1, "one branch on the way: {:?}", e.path);
}

#[test]
fn kept_states_admit_the_values_a_run_can_have() {
    let p = assemble("t.s", ".prog xdp\n r0 = 3\n r0 &= 1\n exit\n", Some(Syntax::Llvm)).unwrap();
    let v = verify(&p, &VerifyOptions { keep_states: true, ..VerifyOptions::default() });
    assert!(v.accepted());
    assert_eq!(v.admits(2, 0, 1), Some(true));
    assert_eq!(v.admits(2, 0, 3), Some(false));
    assert_eq!(v.admits(1, 0, 3), Some(true));
    assert_eq!(v.admits(99, 0, 3), None);
}

#[test]
fn a_loop_that_never_ends_is_detected_and_a_bounded_one_verified() {
    let e = check(".prog xdp\n r0 = 0\nl:\n r0 += 0\n if r0 == 0 goto l\n exit\n", 0).error.expect("rejected");
    assert!(e.message.starts_with("infinite loop detected at insn"), "{}", e.message);
    assert!(check(".prog xdp\n r0 = 0\nl:\n r0 += 1\n if r0 < 100 goto l\n exit\n", 0).accepted());
}

#[test]
fn a_tighter_insn_limit_gives_up_sooner_in_the_kernels_words() {
    let p =
        assemble("t.s", ".prog xdp\n r0 = 0\nl:\n r0 += 1\n if r0 < 100 goto l\n exit\n", Some(Syntax::Llvm)).unwrap();
    let v = verify(&p, &VerifyOptions { insn_limit: Some(50), ..VerifyOptions::default() });
    let e = v.error.expect("the loop needs about 300 instructions");
    assert_eq!(e.message, "BPF program is too large. Processed 51 insn");
    assert_eq!(v.stats.processed, 51);
}

/// With `EBPF_LAB_VERIFIER_TIMING=1`: how long verification takes on the conformance suite and
/// the examples (no assertion on time; the numbers are for the report). Never panics on any of
/// them, which is asserted.
#[test]
fn timing_on_conformance_and_examples() {
    if std::env::var("EBPF_LAB_VERIFIER_TIMING").as_deref() != Ok("1") {
        return;
    }
    let Some(dir) = ebpf_lab::conformance::suite_dir() else { return };
    let mut programs = Vec::new();
    for sub in ["bpf_conformance", "bpf_conformance_negative"] {
        for case in ebpf_lab::conformance::load_dir(&dir.join(sub)).unwrap_or_default() {
            if let Ok(p) = ebpf_lab::conformance::program(&case) {
                programs.push((case.name.clone(), p, case.mem.len() as u32));
            }
        }
    }
    for f in ["examples/xdp_count.s", "examples/syscount.s", "examples/sum.s", "examples/conformance_style.s"] {
        let text = std::fs::read_to_string(f).unwrap();
        programs.push((f.to_string(), assemble(f, &text, None).unwrap(), 16));
    }
    let (mut total, mut worst, mut accepted) =
        (std::time::Duration::ZERO, (std::time::Duration::ZERO, String::new()), 0);
    for (name, p, mem_len) in &programs {
        let t = std::time::Instant::now();
        let v = verify(p, &VerifyOptions { mem_len: *mem_len, ..VerifyOptions::default() });
        let d = t.elapsed();
        total += d;
        accepted += usize::from(v.accepted());
        if d > worst.0 {
            worst = (d, format!("{name} ({} insns processed)", v.stats.processed));
        }
    }
    println!(
        "verified {} programs ({accepted} accepted) in {total:?}, slowest {:?}: {}",
        programs.len(),
        worst.0,
        worst.1
    );
}
