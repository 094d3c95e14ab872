//! The verifier corpus (`tests/verifier/**.s`): small programs, each with the kernel's verdict in
//! its header, measuring how often ebpf-lab's verifier decides what the kernel decides.
//!
//! Each file starts with comments saying what it teaches, then
//! - `; mem_len: N` for `mem` programs (they are verified for one input length, as the kernel
//!   backend loads them: r1 = a map value of N bytes, r2 = N);
//! - `; expect: accept`, or `; expect: reject insn=N "first line of the kernel's message"`
//!   (`insn=` is left out when the kernel rejects before checking any instruction, e.g. a
//!   back-edge found by its control-flow pass).
//!
//! With a kernel, every header is checked against a real load (so the headers stay true);
//! `EBPF_LAB_VERIFIER_BLESS=1` rewrites them from the kernel instead, which is how they are
//! written. Always (no root needed), `ebpf_lab::verifier::verify` is compared with the header:
//! verdict, and for rejections the instruction and the first line of the message.

use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::kernel::{self, verifier_log, KernelProgram, LoadOptions};
use ebpf_lab::program::{ProgType, Program};
use ebpf_lab::verifier::{self, VerifyOptions, COMPLEXITY_LIMIT_INSNS};
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Files where ebpf-lab's verifier knowingly differs from the kernel: (path under
/// `tests/verifier/`, why). Every entry must still disagree, so the list cannot go stale.
const EXCEPTIONS: &[(&str, &str)] = &[];

/// What a verifier decided, in the terms the corpus compares.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Expect {
    Accept,
    Reject { insn: Option<usize>, message: String },
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expect::Accept => f.write_str("accept"),
            Expect::Reject { insn: Some(n), message } => write!(f, "reject insn={n} {message:?}"),
            Expect::Reject { insn: None, message } => write!(f, "reject {message:?}"),
        }
    }
}

impl Expect {
    /// Parses the text after `; expect: `.
    fn parse(text: &str) -> Option<Expect> {
        let text = text.trim();
        if text == "accept" {
            return Some(Expect::Accept);
        }
        let rest = text.strip_prefix("reject")?.trim_start();
        let (insn, rest) = match rest.strip_prefix("insn=") {
            Some(r) => {
                let digits = r.bytes().take_while(u8::is_ascii_digit).count();
                (Some(r[..digits].parse().ok()?), r[digits..].trim_start())
            }
            None => (None, rest),
        };
        let message = rest.strip_prefix('"')?.strip_suffix('"')?.to_string();
        Some(Expect::Reject { insn, message })
    }

    /// Does `got` (ebpf-lab's answer) match this expectation? A header without `insn=` does not
    /// constrain the instruction.
    fn admits(&self, got: &Expect) -> bool {
        match (self, got) {
            (Expect::Accept, Expect::Accept) => true,
            (Expect::Reject { insn: None, message: a }, Expect::Reject { message: b, .. }) => a == b,
            (a, b) => a == b,
        }
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
    expect: Option<Expect>,
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
                .map(|e| Expect::parse(e).unwrap_or_else(|| panic!("{name}: bad expect header {e:?}")));
            Case { name, path, text, program, mem_len, expect }
        })
        .collect()
}

/// The kernel's verdict on a case, and its processed-instruction count when accepted.
fn kernel_verdict(case: &Case) -> (Expect, Option<u32>) {
    let opts = LoadOptions { log_level: 1, mem_len: case.mem_len, ..LoadOptions::default() };
    let k = KernelProgram::load(&case.program, &opts).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let v = k.verdict();
    match &v.error {
        None => (Expect::Accept, v.verified_insns),
        Some(e) => {
            let insn = verifier_log::guilty_pc(&v.log);
            let message = first_message_line(&v.log).unwrap_or_else(|| format!("errno {}", e.errno_name()));
            (Expect::Reject { insn, message }, None)
        }
    }
}

/// The first line of the kernel's reason for a rejection: the first line after the last checked
/// instruction that is not statistics (`verifier_log::reason` joins them all).
fn first_message_line(log: &str) -> Option<String> {
    let lines: Vec<&str> = log.lines().collect();
    let is_insn = |l: &&str| {
        let d = l.bytes().take_while(u8::is_ascii_digit).count();
        d > 0 && l[d..].starts_with(": (")
    };
    let start = lines.iter().rposition(is_insn).map_or(0, |i| i + 1);
    lines[start..]
        .iter()
        .find(|l| !l.trim().is_empty() && !l.starts_with("processed ") && !l.starts_with("verification time"))
        // A few messages lack their newline, so the statistics run on after them.
        .map(|l| l.split_once("processed ").map_or(*l, |(m, _)| m).to_string())
}

/// Rewrites (or adds, after the leading comments) the `; expect:` line of a file.
fn bless(case: &Case, verdict: &Expect) {
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

/// ebpf-lab's verdict, or the panic's message when the verifier panicked.
fn ebpf_lab_verdict(case: &Case) -> Result<(Expect, u64), String> {
    let opts = VerifyOptions { log_level: 0, mem_len: case.mem_len };
    let v = panic::catch_unwind(AssertUnwindSafe(|| verifier::verify(&case.program, &opts))).map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })?;
    let verdict = match &v.error {
        None => Expect::Accept,
        Some(r) => Expect::Reject { insn: r.insn, message: r.message.lines().next().unwrap_or("").to_string() },
    };
    Ok((verdict, v.stats.processed))
}

#[test]
fn corpus_covers_every_program_type_both_ways() {
    let cases = load_corpus();
    assert!(cases.len() >= 200, "the corpus has {} programs, fewer than 200", cases.len());
    for t in ProgType::ALL {
        for accepted in [true, false] {
            assert!(
                cases.iter().any(|c| c.program.prog_type == t
                    && c.expect.as_ref().is_some_and(|e| (*e == Expect::Accept) == accepted)),
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
            let (verdict, insns) = kernel_verdict(case);
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

    // The verifier may still be a skeleton that panics: report each file rather than abort.
    let quiet = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let ours: Vec<_> = cases.iter().map(ebpf_lab_verdict).collect();
    panic::set_hook(quiet);

    let mut agree = 0;
    let (mut our_total, mut kernel_total) = (0u64, 0u64);
    let mut seen_exceptions = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let Some(expect) = &case.expect else { continue };
        let outcome = match &ours[i] {
            Err(p) => Err(format!("ebpf-lab panicked: {}", p.lines().next().unwrap_or(""))),
            Ok((got, _)) if expect.admits(got) => Ok(()),
            Ok((got, _)) => Err(format!("ebpf-lab says {got}")),
        };
        if let (Ok((Expect::Accept, processed)), Some(k)) = (&ours[i], kernel_insns[i]) {
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
