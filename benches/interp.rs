//! ebpf-lab's interpreter against rbpf's on the same loop-heavy bytecode.
//!
//! Run: `cargo bench --bench interp -- --warm-up-time 1 --measurement-time 3`. After criterion's
//! report, a summary prints the time per run of each engine and the speed-up.

use criterion::{black_box, Criterion};
use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::interp::{Input, Vm};
use std::time::{Duration, Instant};

/// Sum of 0..100000 in a counting loop.
const COUNT_LOOP: &str = "
mov %r0, 0
mov %r1, 0
loop:
add %r0, %r1
add %r1, 1
jlt %r1, 100000, loop
exit
";

/// Internet-style 16-bit checksum over the input buffer (r1 = data; the length, 1500, is a constant since rbpf does not pass it in r2).
const CHECKSUM: &str = "
mov %r0, 0
mov %r3, 0
loop:
mov %r4, %r1
add %r4, %r3
ldxh %r5, [%r4+0]
add %r0, %r5
add %r3, 2
jlt %r3, 1500, loop
mov %r1, %r0
rsh %r1, 16
and %r0, 0xffff
add %r0, %r1
exit
";

/// Bubble sort of 64 descending u64 on the stack; returns the smallest.
const BUBBLE_SORT: &str = "
mov %r1, %r10
sub %r1, 512
mov %r2, 64
fill:
stxdw [%r1+0], %r2
add %r1, 8
sub %r2, 1
jne %r2, 0, fill
mov %r6, 63
outer:
mov %r1, %r10
sub %r1, 512
mov %r7, 0
inner:
ldxdw %r3, [%r1+0]
ldxdw %r4, [%r1+8]
jle %r3, %r4, noswap
stxdw [%r1+0], %r4
stxdw [%r1+8], %r3
noswap:
add %r1, 8
add %r7, 1
jlt %r7, %r6, inner
sub %r6, 1
jne %r6, 0, outer
mov %r1, %r10
sub %r1, 512
ldxdw %r0, [%r1+0]
exit
";

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

/// Mean time per call over about half a second.
fn time_per_run(mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_millis(500) {
        f();
        n += 1;
    }
    start.elapsed() / n
}
