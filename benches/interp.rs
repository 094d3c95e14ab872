//! ebpf-lab's interpreter against rbpf's on the same loop-heavy bytecode.
//!
//! Run: `cargo bench --bench interp -- --warm-up-time 1 --measurement-time 3`. After criterion's
//! report, a summary prints the time per run of each engine and the speed-up.

mod common;

use common::time_per_run;
use criterion::{black_box, Criterion};
use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::interp::{Input, Vm};

/// Sum of 0..100000 in a counting loop.
const COUNT_LOOP: &str = include_str!("programs/count_loop.s");

/// Internet-style 16-bit checksum over the input buffer (r1 = data; the length, 1500, is a constant since rbpf does not pass it in r2).
const CHECKSUM: &str = include_str!("programs/checksum.s");

/// Bubble sort of 64 descending u64 on the stack; returns the smallest.
const BUBBLE_SORT: &str = include_str!("programs/bubble_sort.s");

struct Case {
    name: &'static str,
    src: &'static str,
    mem: Vec<u8>,
}

fn cases() -> Vec<Case> {
    let packet: Vec<u8> = (0..1500u32).map(|i| (i * 7 + 3) as u8).collect();
    vec![
        Case { name: "count_loop_1e5", src: COUNT_LOOP, mem: Vec::new() },
        Case { name: "checksum_1500", src: CHECKSUM, mem: packet },
        Case { name: "bubble_sort_64", src: BUBBLE_SORT, mem: Vec::new() },
    ]
}

fn main() {
    // `INTERP_BENCH_RUNS=<case>:<engine>:<n>` runs one engine on one case `n` times and exits, for
    // instruction counting under `valgrind --tool=callgrind` (the difference between two `n`
    // divided by their difference is the cost of one run, setup excluded, free of timing noise).
    if let Ok(spec) = std::env::var("INTERP_BENCH_RUNS") {
        return count_runs(&spec);
    }
    let mut c = Criterion::default().configure_from_args();
    let mut summary = Vec::new();
    for case in cases() {
        let prog = assemble(case.name, case.src, Some(Syntax::Ubpf)).expect("benchmark program assembles");
        let bytes = prog.to_bytes();
        let mut vm = Vm::new(&prog).expect("decodes");
        let input = Input::mem(case.mem.clone());
        let ours = vm.run(&input).expect("runs").r0;
        let rbpf_vm = rbpf::EbpfVmRaw::new(Some(&bytes)).expect("rbpf loads");
        let mut rmem = case.mem.clone();
        let theirs = rbpf_vm.execute_program(&mut rmem).expect("rbpf runs");
        assert_eq!(ours, theirs, "{}: engines disagree", case.name);

        let mut group = c.benchmark_group(case.name);
        group.bench_function("ebpf-lab", |b| b.iter(|| black_box(vm.run(black_box(&input)).unwrap().r0)));
        group.bench_function("rbpf", |b| {
            b.iter(|| {
                let mut m = case.mem.clone();
                black_box(rbpf_vm.execute_program(black_box(&mut m)).unwrap())
            })
        });
        group.finish();

        let ours_t = time_per_run(|| {
            black_box(vm.run(&input).unwrap().r0);
        });
        let theirs_t = time_per_run(|| {
            let mut m = case.mem.clone();
            black_box(rbpf_vm.execute_program(&mut m).unwrap());
        });
        let insns = vm.run(&input).unwrap().insns_executed;
        summary.push((case.name, insns, ours_t, theirs_t));
    }
    c.final_summary();
    println!("\n{:<16} {:>10} {:>14} {:>14} {:>8}", "program", "insns", "ebpf-lab", "rbpf", "speed-up");
    for (name, insns, ours, theirs) in summary {
        println!(
            "{name:<16} {insns:>10} {:>11.1} µs {:>11.1} µs {:>7.2}x",
            ours.as_secs_f64() * 1e6,
            theirs.as_secs_f64() * 1e6,
            theirs.as_secs_f64() / ours.as_secs_f64()
        );
    }
}

/// Runs `case:engine:n` (engine `ebpf-lab` or `rbpf`) `n` times; see `main`.
fn count_runs(spec: &str) {
    let mut parts = spec.split(':');
    let (Some(name), Some(engine), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("INTERP_BENCH_RUNS wants case:engine:n, got {spec}");
    };
    let n: u32 = n.parse().expect("run count");
    let case = cases().into_iter().find(|c| c.name == name).expect("known case");
    let prog = assemble(case.name, case.src, Some(Syntax::Ubpf)).expect("benchmark program assembles");
    let bytes = prog.to_bytes();
    match engine {
        "ebpf-lab" => {
            let mut vm = Vm::new(&prog).expect("decodes");
            let input = Input::mem(case.mem.clone());
            for _ in 0..n {
                black_box(vm.run(black_box(&input)).unwrap().r0);
            }
        }
        "rbpf" => {
            let rbpf_vm = rbpf::EbpfVmRaw::new(Some(&bytes)).expect("rbpf loads");
            for _ in 0..n {
                let mut m = case.mem.clone();
                black_box(rbpf_vm.execute_program(black_box(&mut m)).unwrap());
            }
        }
        _ => panic!("unknown engine {engine}"),
    }
}
