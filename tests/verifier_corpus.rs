//! The verifier corpus (`tests/verifier/**.s`): small programs, each with the kernel's verdict in
//! its header, measuring how often ebpf-lab's verifier decides what the kernel decides.
//!
//! Each file starts with comments saying what it teaches, then
//! - `; mem_len: N` for `mem` programs (they are verified for one input length, as the kernel
//!   backend loads them: r1 = a map value of N bytes, r2 = N);
//! - `; expect: accept`, or `; expect: reject insn=N "first line of the kernel's message"`, where
//!   N is the last instruction the kernel's log (level 1) shows being checked, or for an infinite
//!   loop the one its message names; `insn=` is left out when the kernel names none (its
//!   control-flow pass, e.g. `unreachable insn 2`, the stack-depth check after exploring every
//!   path, the complexity limit). Messages that name instructions use the wrapper's numbering
//!   for `mem` programs, so those topics use other program types.
//!
//! With a kernel, every header is checked against a real load (so the headers stay true);
//! `EBPF_LAB_VERIFIER_BLESS=1` rewrites them from the kernel instead, which is how they are
//! written. Always (no root needed), `ebpf_lab::verifier::verify` is compared with the header:
//! verdict, and for rejections the instruction and the first line of the message.

mod verifier_common;

use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::kernel;
use ebpf_lab::program::{ProgType, Program};
use ebpf_lab::verifier::COMPLEXITY_LIMIT_INSNS;
use std::path::{Path, PathBuf};
use verifier_common::{ebpf_lab_verify, kernel_verdict, quietly, verdict_of, with_mem_len, Verdict};

/// Files where ebpf-lab's verifier knowingly differs from the kernel: (path under
/// `tests/verifier/`, why). Every entry must still disagree, so the list cannot go stale.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// Does `got` (ebpf-lab's answer) match the header's `expect`? A header without `insn=` does not
/// constrain the instruction.
fn admits(expect: &Verdict, got: &Verdict) -> bool {
    match (expect, got) {
        (Verdict::Reject { insn: None, message: a }, Verdict::Reject { message: b, .. }) => a == b,
        (a, b) => a == b,
    }
}

/// One corpus file.
struct Case {
    /// Path under `tests/verifier/`, with `/` separators.
    name: String,
    path: PathBuf,
    text: String,
    program: Program,
    mem_len: u32,
    expect: Option<Verdict>,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verifier")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "s") {
            out.push(p);
        }
    }
}

/// The value of a `; KEY: value` header line.
fn header<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| l.strip_prefix(';')?.trim_start().strip_prefix(key)?.strip_prefix(':'))
}

fn load_corpus() -> Vec<Case> {
    let root = corpus_dir();
    let mut paths = Vec::new();
    collect(&root, &mut paths);
    paths
        .into_iter()
        .map(|path| {
            let name = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            let text = std::fs::read_to_string(&path).unwrap();
            let program = assemble(&name, &text, Some(Syntax::Llvm)).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let mem_len = match header(&text, "mem_len") {
                Some(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}: bad mem_len header")),
                None => 0,
            };
            assert!(
                program.prog_type != ProgType::Mem || header(&text, "mem_len").is_some(),
                "{name}: a mem program needs a `; mem_len: N` header"
            );
            let expect = header(&text, "expect")
                .map(|e| Verdict::parse(e).unwrap_or_else(|| panic!("{name}: bad expect header {e:?}")));
            Case { name, path, text, program, mem_len, expect }
        })
        .collect()
}

/// Rewrites (or adds, after the leading comments) the `; expect:` line of a file.
fn bless(case: &Case, verdict: &Verdict) {
    let line = format!("; expect: {verdict}");
    let mut lines: Vec<String> = case.text.lines().map(str::to_string).collect();
    match lines.iter().position(|l| header(l, "expect").is_some()) {
        Some(i) => lines[i] = line,
        None => {
            let at = lines.iter().position(|l| !l.starts_with(';')).unwrap_or(lines.len());
            lines.insert(at, line);
        }
    }
    std::fs::write(&case.path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn corpus_covers_every_program_type_both_ways() {
    let cases = load_corpus();
    assert!(cases.len() >= 200, "the corpus has {} programs, fewer than 200", cases.len());
    for t in ProgType::ALL {
        for accepted in [true, false] {
            assert!(
                cases.iter().any(|c| c.program.prog_type == t
                    && c.expect.as_ref().is_some_and(|e| (*e == Verdict::Accept) == accepted)),
                "no {} program the kernel {}",
                t,
                if accepted { "accepts" } else { "rejects" }
            );
        }
    }
    for c in &cases {
        assert!(c.expect.is_some(), "{}: no `; expect:` header", c.name);
        assert!(c.text.starts_with(';'), "{}: starts without a comment saying what it teaches", c.name);
    }
    for (name, why) in EXCEPTIONS {
        assert!(cases.iter().any(|c| c.name == *name), "exception for a file not in the corpus: {name}");
        assert!(!why.trim().is_empty(), "exception without a reason: {name}");
    }
}

#[test]
fn verifier_agrees_with_the_kernel_on_the_corpus() {
    let cases = load_corpus();
    let blessing = std::env::var("EBPF_LAB_VERIFIER_BLESS").as_deref() == Ok("1");
    let with_kernel = kernel::require_or_skip("verifier corpus: kernel verdicts");
    let mut problems = Vec::new();
    let mut kernel_insns = vec![None; cases.len()];
    if with_kernel {
        for (i, case) in cases.iter().enumerate() {
            let (verdict, insns) =
                kernel_verdict(&case.program, case.mem_len).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            kernel_insns[i] = insns;
            if let Some(n) = insns {
                assert!(
                    u64::from(n) <= COMPLEXITY_LIMIT_INSNS,
                    "{}: the kernel accepted it after {n} insns, over ebpf-lab's limit",
                    case.name
                );
            }
            if blessing {
                if case.expect.as_ref() != Some(&verdict) {
                    bless(case, &verdict);
                    eprintln!("blessed {}: {verdict}", case.name);
                }
            } else if case.expect.as_ref() != Some(&verdict) {
                problems.push(format!(
                    "{}: header says {}, the kernel says {verdict}",
                    case.name,
                    case.expect.as_ref().map_or("nothing".to_string(), |e| e.to_string())
                ));
            }
        }
    }
    if blessing {
        return;
    }

    // One worker per core: a few programs explore a million instructions each.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ours: Vec<Result<(Verdict, u64), String>> = quietly(|| {
        let mut ours = vec![Err(String::new()); cases.len()];
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    let cases = &cases;
                    s.spawn(move || {
                        (w..cases.len())
                            .step_by(workers)
                            .map(|i| {
                                let c = &cases[i];
                                let v = ebpf_lab_verify(&c.program, with_mem_len(c.mem_len));
                                (i, v.map(|v| (verdict_of(&v), v.stats.processed)))
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for h in handles {
                for (i, r) in h.join().expect("a corpus worker") {
                    ours[i] = r;
                }
            }
        });
        ours
    });

    let mut agree = 0;
    let (mut our_total, mut kernel_total) = (0u64, 0u64);
    let mut seen_exceptions = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let Some(expect) = &case.expect else { continue };
        let outcome = match &ours[i] {
            Err(p) => Err(format!("ebpf-lab {}", p.lines().next().unwrap_or(""))),
            Ok((got, _)) if admits(expect, got) => Ok(()),
            Ok((got, _)) => Err(format!("ebpf-lab says {got}")),
        };
        if let (Ok((Verdict::Accept, processed)), Some(k)) = (&ours[i], kernel_insns[i]) {
            our_total += processed;
            kernel_total += u64::from(k);
        }
        let exception = EXCEPTIONS.iter().find(|(n, _)| *n == case.name);
        match (outcome, exception) {
            (Ok(()), None) => agree += 1,
            (Ok(()), Some(_)) => {
                agree += 1;
                problems.push(format!("{}: listed in EXCEPTIONS but now agrees: remove it", case.name));
            }
            (Err(why), Some((_, reason))) => {
                seen_exceptions.push(format!("{}: {why} (exception: {reason})", case.name))
            }
            (Err(why), None) => problems.push(format!("{}: expected {expect}, {why}", case.name)),
        }
    }
    println!("verifier agreement: {agree}/{}", cases.len());
    if kernel_total > 0 {
        println!(
            "processed instructions, ebpf-lab/kernel over accepted programs: {our_total}/{kernel_total} = {:.2}",
            our_total as f64 / kernel_total as f64
        );
    }
    for e in &seen_exceptions {
        println!("  known: {e}");
    }
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}
