//! ebpf-lab's verifier against the kernel's on the same programs: the interpreter benchmark's
//! counting loop, checksum and bubble sort, and the corpus programs that cost the most to verify.
//!
//! Run: `cargo bench --bench verifier -- --warm-up-time 1 --measurement-time 3`. Three times per
//! program: ebpf-lab's `verify`, the kernel's `BPF_PROG_LOAD` wall time (maps created and closed
//! with it, as `KernelProgram::load` does), and the kernel's own `verification time N usec` from
//! its log at level 4. The kernel parts need root and are skipped without it. After criterion's
//! report, a summary prints the three and the ratios.

mod common;

use common::time_per_run;
use criterion::{black_box, Criterion};
use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::kernel::{self, KernelProgram, LoadOptions};
use ebpf_lab::program::{ProgType, Program};
use ebpf_lab::verifier::{verify, VerifyOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How many of the corpus's most expensive accepted programs to add.
const CORPUS_LARGEST: usize = 3;

struct Case {
    name: String,
    program: Program,
    mem_len: u32,
}

fn bench_program(name: &str, src: &str, mem_len: u32) -> Case {
    let program = assemble(name, src, Some(Syntax::Ubpf)).expect("benchmark program assembles");
    Case { name: name.to_string(), program: Program { prog_type: ProgType::Mem, ..program }, mem_len }
}

fn corpus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("tests/verifier") {
        let p = entry.expect("dir entry").path();
        if p.is_dir() {
            corpus_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "s") {
            out.push(p);
        }
    }
}

/// The corpus programs both verifiers accept (the kernel per their headers), most processed
/// instructions (by ebpf-lab's count) first.
fn corpus_largest() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verifier");
    let mut paths = Vec::new();
    corpus_files(&root, &mut paths);
    let mut cases: Vec<(u64, Case)> = paths
        .iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            text.lines().any(|l| l.trim() == "; expect: accept").then_some(())?;
            let mem_len = text.lines().find_map(|l| l.strip_prefix("; mem_len:")?.trim().parse().ok()).unwrap_or(0);
            let name = path.strip_prefix(&root).ok()?.display().to_string();
            let program = assemble(&name, &text, Some(Syntax::Llvm)).ok()?;
            let v = verify(&program, &VerifyOptions { mem_len, ..VerifyOptions::default() });
            v.accepted().then_some((v.stats.processed, Case { name, program, mem_len }))
        })
        .collect();
    cases.sort_by_key(|(n, c)| (std::cmp::Reverse(*n), c.name.clone()));
    cases.into_iter().take(CORPUS_LARGEST).map(|(_, c)| c).collect()
}

fn cases() -> Vec<Case> {
    let mut v = vec![
        bench_program("count_loop_1e5", include_str!("programs/count_loop.s"), 0),
        bench_program("checksum_1500", include_str!("programs/checksum.s"), 1500),
        bench_program("bubble_sort_64", include_str!("programs/bubble_sort.s"), 0),
    ];
    v.extend(corpus_largest());
    v
}

/// The kernel's own measure, from the level-4 log's `verification time N usec`.
fn kernel_verification_time(case: &Case) -> Option<Duration> {
    let opts = LoadOptions { log_level: 4, mem_len: case.mem_len, ..LoadOptions::default() };
    let k = KernelProgram::load(&case.program, &opts).ok()?;
    let line = k.verdict().log.lines().find_map(|l| l.strip_prefix("verification time "))?;
    let usec: u64 = line.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_micros(usec))
}

fn kernel_load(case: &Case) -> bool {
    let opts = LoadOptions { mem_len: case.mem_len, ..LoadOptions::default() };
    KernelProgram::load(&case.program, &opts).is_ok_and(|k| k.verdict().accepted())
}

fn main() {
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let with_kernel = kernel::require_or_skip("verifier benchmark: kernel times");
    let mut summary = Vec::new();
    for case in cases() {
        let opts = VerifyOptions { mem_len: case.mem_len, ..VerifyOptions::default() };
        let v = verify(&case.program, &opts);
        assert!(v.accepted(), "{}: ebpf-lab rejects a benchmark program: {:?}", case.name, v.error);
        if with_kernel {
            assert!(kernel_load(&case), "{}: the kernel rejects a benchmark program", case.name);
        }
        let mut group = c.benchmark_group(case.name.as_str());
        group.bench_function("ebpf-lab", |b| b.iter(|| black_box(verify(black_box(&case.program), &opts).stats)));
        if with_kernel {
            group.bench_function("kernel BPF_PROG_LOAD", |b| b.iter(|| black_box(kernel_load(&case))));
        }
        group.finish();

        let ours = time_per_run(|| {
            black_box(verify(&case.program, &opts).stats);
        });
        let load = with_kernel.then(|| {
            time_per_run(|| {
                black_box(kernel_load(&case));
            })
        });
        let own = if with_kernel { kernel_verification_time(&case) } else { None };
        summary.push((case.name, v.stats.processed, ours, load, own));
    }
    c.final_summary();
    println!(
        "\n{:<28} {:>9} {:>12} {:>14} {:>14} {:>10} {:>10}",
        "program", "processed", "ebpf-lab", "kernel load", "kernel verif.", "load/ours", "verif/ours"
    );
    let us = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
    let ratio = |k: Option<Duration>, ours: Duration| {
        k.map_or("-".to_string(), |k| format!("{:.2}x", k.as_secs_f64() / ours.as_secs_f64()))
    };
    for (name, processed, ours, load, own) in summary {
        println!(
            "{name:<28} {processed:>9} {:>12} {:>14} {:>14} {:>10} {:>10}",
            us(ours),
            load.map_or("-".into(), us),
            own.map_or("-".into(), us),
            ratio(load, ours),
            ratio(own, ours)
        );
    }
}
