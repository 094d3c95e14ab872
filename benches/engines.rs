//! The same bytecode on every engine: ebpf-lab's interpreter and JIT (every access checked, and
//! `jit-u`: only what the verifier did not prove), rbpf's interpreter and JIT, the kernel (`BPF_PROG_TEST_RUN` with `repeat`, skipped without root) and the same
//! algorithm in native Rust; r0 is checked on each. Then the JIT's compile time per 1,000
//! instructions.
//!
//! ebpf-lab's engines are timed through `run_r0` (r0 only, as rbpf's `execute_program`); the
//! fixed-cost lines also time `Engine::run`, which hands back the packet and context.
//!
//! Run: `cargo bench --bench engines` (90 s on 2 busy cores; criterion draws no plots). After
//! criterion's report, a table prints the time per run of each engine and the ratios that matter.
//!
//! Each program is an XDP program over a packet (`r1 = data`, `r2 = data_end` after a
//! two-instruction prologue reading `xdp_md`), with the bounds checks the kernel verifier wants.
//! rbpf has no `xdp_md`: its copy gets `r1` = the packet and a prologue computing `data_end`
//! instead, also two instructions.

use criterion::{black_box, Criterion};
use ebpf_lab::asm::{assemble, Syntax};
use ebpf_lab::interp::RunOptions;
use ebpf_lab::interp::{Input, Vm};
use ebpf_lab::jit::{compile::compile, JitChecks, JitVm};
use ebpf_lab::kernel::{self, prog_test_run, ProgLoad, TestRun};
use ebpf_lab::program::{ProgType, Program};
use std::time::Duration;

struct Case {
    name: &'static str,
    body: String,
    packet: Vec<u8>,
    native: fn(&[u8]) -> u64,
}

const COUNT: &str = "
r0 = 0
r3 = 0
loop:
r0 += r3
r3 += 1
if r3 < 1000 goto loop
exit
";

const PRIMES: &str = "
r0 = 0
r3 = 2
outer:
r4 = 2
inner:
r5 = r4
r5 *= r4
if r5 > r3 goto prime
r6 = r3
r6 %= r4
if r6 == 0 goto next
r4 += 1
goto inner
prime:
r0 += 1
next:
r3 += 1
if r3 < 2000 goto outer
exit
";

const LOG2: &str = "
r0 = 0
r3 = 1
outer:
r4 = 0
r5 = 63
search:
if r4 >= r5 goto found
r6 = r4
r6 += r5
r6 += 1
r6 >>= 1
r7 = r3
r7 >>= r6
if r7 == 0 goto lower
r4 = r6
goto search
lower:
r5 = r6
r5 -= 1
goto search
found:
r0 += r4
r3 += 1
if r3 <= 1000 goto outer
exit
";

/// A loop over `i` in `0..n` with `r4 = data + i`, after checking the packet holds `need`
/// bytes; `body` runs each round (and may `goto out`), `after` once at the end.
fn packet_loop(need: u32, n: u32, body: &str, after: &str) -> String {
    format!(
        "r0 = 0\nr3 = r1\nr3 += {need}\nif r3 > r2 goto out\nr3 = 0\nloop:\nr4 = r1\nr4 += r3\n{body}\
         r3 += 1\nif r3 < {n} goto loop\n{after}out:\nexit\n"
    )
}

/// Byte-wise copy of the first KiB of a 2 KiB packet into the second; r0 = the last byte.
fn memcpy() -> String {
    packet_loop(2048, 1024, "r5 = *(u8 *)(r4 + 0)\n*(u8 *)(r4 + 1024) = r5\n", "r0 = *(u8 *)(r1 + 2047)\n")
}

/// Compares two 1,000-byte strings; r0 = 1 + the index of the first difference, or 0.
fn strcmp() -> String {
    packet_loop(
        2000,
        1000,
        "r5 = *(u8 *)(r4 + 0)\nr6 = *(u8 *)(r4 + 1000)\nif r5 != r6 goto diff\n",
        "goto out\ndiff:\nr0 = r3\nr0 += 1\n",
    )
}

const PARSE: &str = "
r0 = 0
r3 = r1
r3 += 54
if r3 > r2 goto out
r4 = *(u16 *)(r1 + 12)
if r4 != 0x8 goto out
r4 = *(u8 *)(r1 + 14)
r4 &= 0xf
if r4 != 5 goto out
r4 = *(u8 *)(r1 + 23)
if r4 != 6 goto out
r0 = *(u16 *)(r1 + 36)
r0 = be16 r0
out:
exit
";

/// A 16-way switch (a compare chain: eBPF has no indirect jumps) on `i & 15`, 1,000 times;
/// case k adds k * k + 1.
fn switch16() -> String {
    let mut s = String::from("r0 = 0\nr3 = 0\nloop:\nr4 = r3\nr4 &= 15\n");
    for k in 0..15 {
        s.push_str(&format!("if r4 == {k} goto c{k}\n"));
    }
    s.push_str("r0 += 226\ngoto next\n");
    for k in 0..15 {
        s.push_str(&format!("c{k}:\nr0 += {}\ngoto next\n", k * k + 1));
    }
    s.push_str("next:\nr3 += 1\nif r3 < 1000 goto loop\nexit\n");
    s
}

fn tcp_packet() -> Vec<u8> {
    let mut p = vec![0u8; 64];
    p[12] = 0x08; // IPv4
    p[14] = 0x45;
    p[23] = 6; // TCP
    p[36] = 0;
    p[37] = 80; // dst port 80
    p
}

fn cases() -> Vec<Case> {
    let filler = |n: usize| (0..n).map(|i| (i * 7 + 3) as u8).collect::<Vec<u8>>();
    let mut strings = filler(1000);
    strings.extend_from_slice(&strings.clone());
    strings[1999] ^= 1;
    vec![
        Case { name: "count_1000", body: COUNT.into(), packet: vec![0; 64], native: |_| (0..1000u64).sum() },
        Case {
            name: "primes_2000",
            body: PRIMES.into(),
            packet: vec![0; 64],
            native: |_| (2..2000u64).filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)).count() as u64,
        },
        Case {
            name: "log2_1000",
            body: LOG2.into(),
            packet: vec![0; 64],
            native: |_| {
                (1..=1000u64)
                    .map(|v| {
                        let (mut lo, mut hi) = (0u64, 63u64);
                        while lo < hi {
                            let mid = (lo + hi).div_ceil(2);
                            if v >> mid != 0 {
                                lo = mid
                            } else {
                                hi = mid - 1
                            }
                        }
                        lo
                    })
                    .sum()
            },
        },
        Case {
            name: "memcpy_1k",
            body: memcpy(),
            packet: filler(2048),
            native: |p| {
                let mut p = p.to_vec();
                for i in 0..1024 {
                    p[i + 1024] = black_box(p[i]);
                }
                p[2047] as u64
            },
        },
        Case {
            name: "strcmp_1000",
            body: strcmp(),
            packet: strings,
            native: |p| (0..1000).find(|&i| p[i] != p[i + 1000]).map_or(0, |i| i as u64 + 1),
        },
        Case {
            name: "switch16_1000",
            body: switch16(),
            packet: vec![0; 64],
            native: |_| {
                (0..1000u64)
                    .map(|i| [1, 2, 5, 10, 17, 26, 37, 50, 65, 82, 101, 122, 145, 170, 197, 226][(i & 15) as usize])
                    .sum()
            },
        },
        Case {
            name: "parse_eth_ip_tcp",
            body: PARSE.into(),
            packet: tcp_packet(),
            native: |p| {
                if p.len() >= 54 && p[12..14] == [8, 0] && p[14] & 0xf == 5 && p[23] == 6 {
                    u16::from_be_bytes([p[36], p[37]]) as u64
                } else {
                    0
                }
            },
        },
    ]
}

/// `r1 = data`, `r2 = data_end` from `xdp_md`.
const XDP_PROLOGUE: &str = "r2 = *(u32 *)(r1 + 4)\nr1 = *(u32 *)(r1 + 0)\n";

fn program(case: &Case, prologue: &str, prog_type: ProgType) -> Program {
    let src = format!("{prologue}{}", case.body);
    let mut p = assemble(case.name, &src, Some(Syntax::Llvm)).expect("benchmark program assembles");
    p.prog_type = prog_type;
    p
}

/// This thread's CPU time. On shared cores a wall clock counts the time other processes ran;
/// the kernel's `BPF_PROG_TEST_RUN` figure does not (it stops its clock when it yields), so every
/// engine here is timed the same way.
fn cpu_now() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Mean CPU time per call over about 100 ms, reading the clock once per batch so that short
/// programs are not timed mostly by the clock.
fn time_per_run(mut f: impl FnMut()) -> Duration {
    f();
    let start = cpu_now();
    let (mut n, mut batch) = (0u32, 1u32);
    loop {
        for _ in 0..batch {
            f();
        }
        n += batch;
        let t = cpu_now() - start;
        if t >= Duration::from_millis(100) {
            return t / n;
        }
        batch = (batch * 2).min(1 << 16);
    }
}

/// The kernel's mean time per run (`BPF_PROG_TEST_RUN` with `repeat`) and its r0, or why not.
fn kernel_time(p: &Program, packet: &[u8]) -> Result<(Duration, u64), String> {
    if kernel::availability().is_err() {
        return Err("no kernel (needs root)".into());
    }
    let code = p.to_bytes();
    let loaded = kernel::prog_load(&ProgLoad {
        prog_type: kernel::sys::prog_type::XDP,
        insns: &code,
        name: "bench",
        ..Default::default()
    })
    .map_err(|e| format!("rejected: {}", e.explanation()))?;
    let run = |repeat| {
        prog_test_run(&loaded.fd, &TestRun { data_in: Some(packet), repeat, ..Default::default() })
            .map_err(|e| e.to_string())
    };
    let probe = run(1000)?;
    let repeat = (100_000_000 / probe.duration_ns.max(1)).clamp(1000, 1_000_000);
    let r = run(repeat)?;
    Ok((Duration::from_nanos(r.duration_ns as u64), r.retval as u64))
}

struct Row {
    name: &'static str,
    times: [Option<Duration>; 7],
    kernel_note: Option<String>,
}

const ENGINES: [&str; 7] = ["interp", "jit", "rbpf", "rbpf-jit", "kernel", "native", "jit-u"];

fn main() {
    // `ENGINES_BENCH_RUNS=<case|empty|compile>:<interp|jit|jit-u|rbpf|rbpf-jit|interp-r0|jit-r0>:<n>` runs one
    // engine on one case `n` times (`-r0`: through `Engine::run_r0`) and exits, for instruction
    // counting under `valgrind --tool=callgrind` (as in `benches/interp.rs`).
    if let Ok(spec) = std::env::var("ENGINES_BENCH_RUNS") {
        return count_runs(&spec);
    }
    // `ENGINES_BENCH_FIXED=1` prints only the fixed cost of a run (a few seconds).
    if std::env::var_os("ENGINES_BENCH_FIXED").is_some() {
        return fixed_cost();
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(200))
        .measurement_time(Duration::from_millis(500))
        .sample_size(10)
        .without_plots()
        .configure_from_args();
    let mut rows = Vec::new();
    for case in cases() {
        let xdp = program(&case, XDP_PROLOGUE, ProgType::Xdp);
        let raw = program(&case, &format!("r2 = r1\nr2 += {}\n", case.packet.len()), ProgType::Mem);
        let input = Input::xdp(case.packet.clone());
        let want = (case.native)(&case.packet);
        let mut interp = Vm::new(&xdp).expect("interpreter loads");
        let mut jit = JitVm::new(&xdp).expect("JIT compiles");
        let mut jit_u = JitVm::with_checks(&xdp, RunOptions::default(), JitChecks::Unproven).expect("JIT compiles");
        assert_eq!(interp.run(&input).expect("interpreter runs").r0, want, "{}: interpreter", case.name);
        assert_eq!(jit.run(&input).expect("JIT runs").r0, want, "{}: JIT", case.name);
        assert_eq!(jit_u.run(&input).expect("JIT runs").r0, want, "{}: JIT, unproven checks", case.name);
        for (vm, what) in [
            (&mut interp as &mut dyn ebpf_lab::engine::Engine, "interpreter"),
            (&mut jit, "JIT"),
            (&mut jit_u, "JIT-u"),
        ] {
            assert_eq!(vm.run_r0(&input).expect("runs"), want, "{}: {what}, r0 only", case.name);
        }
        let raw_bytes = raw.to_bytes();
        let mut rbpf_vm = rbpf::EbpfVmRaw::new(Some(&raw_bytes)).expect("rbpf loads");
        let mut mem = case.packet.clone();
        assert_eq!(rbpf_vm.execute_program(&mut mem).expect("rbpf runs"), want, "{}: rbpf", case.name);
        rbpf_vm.jit_compile().expect("rbpf JIT compiles");
        let mut mem = case.packet.clone();
        // SAFETY: rbpf's JIT runs the program it compiled on `mem`, which outlives the call.
        assert_eq!(unsafe { rbpf_vm.execute_program_jit(&mut mem) }.expect("rbpf JIT runs"), want);

        let mut group = c.benchmark_group(case.name);
        group.bench_function("interp", |b| b.iter(|| black_box(interp.run_r0(black_box(&input)).unwrap())));
        group.bench_function("jit", |b| b.iter(|| black_box(jit.run_r0(black_box(&input)).unwrap())));
        group.bench_function("jit-u", |b| b.iter(|| black_box(jit_u.run_r0(black_box(&input)).unwrap())));
        group.bench_function("rbpf", |b| b.iter(|| black_box(rbpf_vm.execute_program(black_box(&mut mem)).unwrap())));
        group.bench_function("rbpf-jit", |b| {
            b.iter(|| black_box(unsafe { rbpf_vm.execute_program_jit(black_box(&mut mem)) }.unwrap()))
        });
        group.bench_function("native", |b| b.iter(|| black_box((case.native)(black_box(&case.packet)))));
        group.finish();

        let mut times = [None; 7];
        times[0] = Some(time_per_run(|| {
            black_box(interp.run_r0(&input).unwrap());
        }));
        times[1] = Some(time_per_run(|| {
            black_box(jit.run_r0(&input).unwrap());
        }));
        times[2] = Some(time_per_run(|| {
            black_box(rbpf_vm.execute_program(&mut mem).unwrap());
        }));
        times[3] = Some(time_per_run(|| {
            black_box(unsafe { rbpf_vm.execute_program_jit(&mut mem) }.unwrap());
        }));
        let kernel_note = match kernel_time(&xdp, &case.packet) {
            Ok((t, r0)) => {
                assert_eq!(r0, want & 0xffff_ffff, "{}: kernel", case.name);
                times[4] = Some(t);
                None
            }
            Err(why) => Some(why),
        };
        times[5] = Some(time_per_run(|| {
            black_box((case.native)(black_box(&case.packet)));
        }));
        times[6] = Some(time_per_run(|| {
            black_box(jit_u.run_r0(&input).unwrap());
        }));
        rows.push(Row { name: case.name, times, kernel_note });
    }
    c.final_summary();
    print_table(&rows);
    fixed_cost();
    compile_time();
}

/// The fixed cost of a run: `r0 = 2; exit` as an XDP program on a 64-byte packet through
/// [`Engine::run`](ebpf_lab::engine::Engine::run) (engine opened once), against rbpf's
/// interpreter and JIT on the same two instructions.
fn fixed_cost() {
    let p = empty_xdp();
    let input = Input::xdp(tcp_packet());
    let options = ebpf_lab::engine::EngineOptions::default();
    println!("\nfixed cost per run (`r0 = 2; exit`, XDP, 64-byte packet), ns:");
    let mut rows = Vec::new();
    for name in ["interp", "jit"] {
        let mut engine = ebpf_lab::engine::open(name, &p, &options, &input).expect("engine opens");
        assert_eq!(engine.run(&input).expect("runs").outcome.r0, 2);
        assert_eq!(engine.run_r0(&input).expect("runs"), 2);
        rows.push((
            name,
            time_per_run(|| {
                black_box(engine.run(black_box(&input)).unwrap().outcome.r0);
            }),
        ));
        rows.push((
            if name == "jit" { "jit r0" } else { "interp r0" },
            time_per_run(|| {
                black_box(engine.run_r0(black_box(&input)).unwrap());
            }),
        ));
    }
    let code = p.to_bytes();
    let mut rbpf_vm = rbpf::EbpfVmRaw::new(Some(&code)).expect("rbpf loads");
    let mut mem = tcp_packet();
    rows.push((
        "rbpf",
        time_per_run(|| {
            black_box(rbpf_vm.execute_program(black_box(&mut mem)).unwrap());
        }),
    ));
    rbpf_vm.jit_compile().expect("rbpf JIT compiles");
    rows.push((
        "rbpf-jit",
        time_per_run(|| {
            // SAFETY: rbpf's JIT runs the program it compiled on `mem`, which outlives the call.
            black_box(unsafe { rbpf_vm.execute_program_jit(black_box(&mut mem)) }.unwrap());
        }),
    ));
    let rbpf = rows[4].1.as_secs_f64();
    for (name, t) in rows {
        println!("{name:<10}{:>8.1}{:>10.2}x rbpf", t.as_secs_f64() * 1e9, rbpf / t.as_secs_f64());
    }
}

/// `r0 = 2; exit` (`XDP_PASS`) as an XDP program.
fn empty_xdp() -> Program {
    let mut p = assemble("empty", "r0 = 2\nexit\n", Some(Syntax::Llvm)).expect("assembles");
    p.prog_type = ProgType::Xdp;
    p
}

fn print_table(rows: &[Row]) {
    let fmt = |t: Option<Duration>| t.map_or("-".to_string(), |t| format!("{:.0}", t.as_secs_f64() * 1e9));
    println!("\nns per run:");
    print!("{:<18}", "program");
    for e in ENGINES {
        print!("{e:>10}");
    }
    println!("{:>12}{:>12}{:>12}{:>12}{:>12}", "interp/jit", "jit/kernel", "jit-u/kern", "jit/rbpfjit", "rbpf/interp");
    for r in rows {
        print!("{:<18}", r.name);
        for t in r.times {
            print!("{:>10}", fmt(t));
        }
        let ratio = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.2}x", a.as_secs_f64() / b.as_secs_f64()),
            _ => "-".into(),
        };
        println!(
            "{:>12}{:>12}{:>12}{:>12}{:>12}",
            ratio(r.times[0], r.times[1]),
            ratio(r.times[1], r.times[4]),
            ratio(r.times[6], r.times[4]),
            ratio(r.times[1], r.times[3]),
            ratio(r.times[2], r.times[0])
        );
        if let Some(why) = &r.kernel_note {
            println!("{:<18}(kernel: {why})", "");
        }
    }
}

/// The JIT's compile time per 1,000 instructions, on a 10,000-instruction program of ALU
/// operations, stack accesses and forward branches.
fn compile_time() {
    let p = compile_program();
    let n = p.insns.len();
    let t = time_per_run(|| {
        black_box(compile(&p).expect("compiles"));
    });
    println!(
        "\nJIT compile: {n} instructions in {:.0} µs = {:.1} µs per 1,000 instructions",
        t.as_secs_f64() * 1e6,
        t.as_secs_f64() * 1e6 * 1000.0 / n as f64
    );
}

/// 10,000 instructions of ALU operations, stack accesses and forward branches.
fn compile_program() -> Program {
    let mut src = String::new();
    for i in 0..2000 {
        src.push_str(&format!(
            "r{} += {i}\n*(u64 *)(r10 - {}) = r{}\nr{} = *(u64 *)(r10 - {})\nif r{} > {i} goto +1\nr{} ^= r{}\n",
            i % 10,
            8 * (1 + i % 64),
            i % 10,
            (i + 1) % 10,
            8 * (1 + i % 64),
            i % 10,
            (i + 2) % 10,
            i % 10
        ));
    }
    src.push_str("exit\n");
    assemble("compile", &src, Some(Syntax::Llvm)).expect("assembles")
}

/// Runs `case:engine:n` (engine `interp`, `jit`, `jit-u`, `rbpf` or `rbpf-jit`) `n` times; see `main`.
fn count_runs(spec: &str) {
    let mut parts = spec.split(':');
    let (Some(name), Some(engine), Some(n)) = (parts.next(), parts.next(), parts.next()) else {
        panic!("ENGINES_BENCH_RUNS wants case:engine:n, got {spec}");
    };
    let n: u32 = n.parse().expect("run count");
    if let Some(engine) = engine.strip_suffix("-r0") {
        // Through `Engine::run_r0`: r0 only, as rbpf's `execute_program`.
        let (p, input) = match name {
            "empty" => (empty_xdp(), Input::xdp(tcp_packet())),
            _ => {
                let case = cases().into_iter().find(|c| c.name == name).expect("known case");
                let xdp = program(&case, XDP_PROLOGUE, ProgType::Xdp);
                (xdp, Input::xdp(case.packet.clone()))
            }
        };
        let mut engine = ebpf_lab::engine::open(engine, &p, &Default::default(), &input).expect("opens");
        for _ in 0..n {
            black_box(engine.run_r0(black_box(&input)).unwrap());
        }
        return;
    }
    if name == "empty" && engine.starts_with("rbpf") {
        let code = empty_xdp().to_bytes();
        let mut vm = rbpf::EbpfVmRaw::new(Some(&code)).expect("rbpf loads");
        let mut mem = tcp_packet();
        if engine == "rbpf-jit" {
            vm.jit_compile().expect("rbpf JIT compiles");
            for _ in 0..n {
                // SAFETY: rbpf's JIT runs the program it compiled on `mem`, which outlives the call.
                black_box(unsafe { vm.execute_program_jit(black_box(&mut mem)) }.unwrap());
            }
            return;
        }
        for _ in 0..n {
            black_box(vm.execute_program(black_box(&mut mem)).unwrap());
        }
        return;
    }
    if name == "empty" {
        let mut engine = ebpf_lab::engine::open(engine, &empty_xdp(), &Default::default(), &Input::xdp(tcp_packet()))
            .expect("opens");
        let input = Input::xdp(tcp_packet());
        for _ in 0..n {
            black_box(engine.run(black_box(&input)).unwrap().outcome.r0);
        }
        return;
    }
    if name == "compile" {
        let p = compile_program();
        for _ in 0..n {
            black_box(compile(&p).expect("compiles"));
        }
        return;
    }
    let case = cases().into_iter().find(|c| c.name == name).expect("known case");
    let xdp = program(&case, XDP_PROLOGUE, ProgType::Xdp);
    let input = Input::xdp(case.packet.clone());
    let mut engine: Box<dyn FnMut() -> u64> = match engine {
        "interp" => {
            let mut vm = Vm::new(&xdp).expect("loads");
            Box::new(move || vm.run(&input).unwrap().r0)
        }
        "jit" => {
            let mut vm = JitVm::new(&xdp).expect("compiles");
            Box::new(move || vm.run(&input).unwrap().r0)
        }
        "rbpf" => {
            // (Leaked: the VM borrows its bytecode for the rest of this short-lived process.)
            let raw = program(&case, &format!("r2 = r1\nr2 += {}\n", case.packet.len()), ProgType::Mem).to_bytes();
            let vm = rbpf::EbpfVmRaw::new(Some(Box::leak(raw.into_boxed_slice()))).expect("rbpf loads");
            let mut mem = case.packet.clone();
            Box::new(move || vm.execute_program(&mut mem).unwrap())
        }
        "rbpf-jit" => {
            let raw = program(&case, &format!("r2 = r1\nr2 += {}\n", case.packet.len()), ProgType::Mem).to_bytes();
            let mut vm = rbpf::EbpfVmRaw::new(Some(Box::leak(raw.into_boxed_slice()))).expect("rbpf loads");
            vm.jit_compile().expect("rbpf JIT compiles");
            let mut mem = case.packet.clone();
            // SAFETY: rbpf's JIT runs the program it compiled on `mem`, which outlives the call.
            Box::new(move || unsafe { vm.execute_program_jit(&mut mem) }.unwrap())
        }
        "jit-u" => {
            let mut vm = JitVm::with_checks(&xdp, RunOptions::default(), JitChecks::Unproven).expect("compiles");
            Box::new(move || vm.run(&input).unwrap().r0)
        }
        _ => panic!("unknown engine {engine}"),
    };
    for _ in 0..n {
        black_box(engine());
    }
}
