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
