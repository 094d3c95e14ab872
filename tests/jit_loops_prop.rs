//! Counted loops, at random: loops of the shape the JIT guards once at the entry (`if i < N` or
//! `<= N` back-edges, the counter advanced by a constant somewhere in the body), with loads and
//! stores through the packet, the stack and the context at offsets around every edge, early exits,
//! `if`s inside the body (forward jumps over a few items), random
//! starting counters, packet lengths and budgets. Whether the guard lets the unchecked copy run
//! or not, the JIT (both check modes) must give the interpreter's outcome: r0, packet, or the
//! same fault at the same instruction.
//!
//! `EBPF_LAB_JIT_LOOP_CASES=N` for a longer hunt (default sized for CI).

mod interp_common;
use ebpf_lab::interp::{ErrorKind, Input, RunOptions, RunOutcome, RuntimeError, Vm};
use ebpf_lab::jit::{JitChecks, JitVm};
use interp_common::llvm;
use proptest::prelude::*;

fn cases() -> u32 {
    std::env::var("EBPF_LAB_JIT_LOOP_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(400)
}

/// One item of the loop body.
#[derive(Clone, Debug)]
enum Item {
    /// `rX = *(SIZE *)(base [+ i] + off)`.
    Load { base: u8, counted: bool, off: i16, size: u8, dst: u8 },
    /// `*(SIZE *)(base [+ i] + off) = r5` (or an immediate).
    Store { base: u8, counted: bool, off: i16, size: u8, imm: bool },
    /// Arithmetic on r0 and r5 (never the counter or a base).
    Alu(u8),
    /// `if r5 == c goto out`: leaves the loop early.
    Exit(u8),
    /// `if r5 == c goto` the item `over + 1` items on (or the loop's end): an `if` inside.
    Skip(u8, u8),
}

const SIZES: [&str; 4] = ["u8", "u16", "u32", "u64"];

/// Base registers: r1 the packet's data, r10 the frame pointer, r6 a copy of `r10 - 64`, r8
/// the context (whose fields have rules of their own: the guard must leave those accesses checked).
fn base_name(b: u8) -> &'static str {
    ["r1", "r10", "r6", "r8"][b as usize % 4]
}

fn item() -> impl Strategy<Value = Item> {
    let off = prop_oneof![-80i16..8, 0i16..320, Just(-8i16), Just(-1i16)];
    prop_oneof![
        (0u8..4, any::<bool>(), off.clone(), 0u8..4, prop::sample::select(vec![5u8, 7]))
            .prop_map(|(base, counted, off, size, dst)| Item::Load { base, counted, off, size, dst }),
        (0u8..4, any::<bool>(), off, 0u8..4, any::<bool>()).prop_map(|(base, counted, off, size, imm)| Item::Store {
            base,
            counted,
            off,
            size,
            imm
        }),
        (0u8..4).prop_map(Item::Alu),
        (0u8..8).prop_map(Item::Exit),
        (0u8..8, 0u8..4).prop_map(|(v, over)| Item::Skip(v, over)),
    ]
}

/// A loop program and how to run it.
#[derive(Clone, Debug)]
struct Case {
    body: Vec<Item>,
    /// Where `r3 += step` goes among the body's items.
    incr_at: usize,
    step: u8,
    init: i64,
    bound: u16,
    inclusive: bool,
    packet_len: u16,
    budget: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec(item(), 1..6),
        any::<prop::sample::Index>(),
        prop::sample::select(vec![1u8, 1, 2, 3, 8]),
        prop_oneof![0i64..4, -2i64..2, 0i64..400, Just(i64::MAX), Just(-1i64)],
        1u16..300,
        any::<bool>(),
        prop_oneof![0u16..80, 0u16..700],
        prop_oneof![Just(1_000_000u64), 0u64..3000],
    )
        .prop_map(|(body, at, step, init, bound, inclusive, packet_len, budget)| Case {
            incr_at: at.index(body.len() + 1),
            body,
            step,
            init,
            bound,
            inclusive,
            packet_len,
            budget,
        })
}

fn source(c: &Case) -> String {
    let mut s =
        String::from(".prog xdp\nr8 = r1\nr1 = *(u32 *)(r1 + 0)\nr6 = r10\nr6 += -64\nr0 = 0\nr5 = 3\nr7 = 1\n");
    s.push_str(&format!("r3 = {} ll\nloop:\n", c.init));
    let incr = format!("r3 += {}\n", c.step);
    // The label of each `Skip` item lands before the item it skips to.
    let lands = |k: usize| {
        c.body.iter().enumerate().filter(
            move |&(j, it)| matches!(*it, Item::Skip(_, over) if (j + 1 + over as usize).min(c.body.len()) == k),
        )
    };
    for (k, it) in c.body.iter().enumerate() {
        for (j, _) in lands(k) {
            s.push_str(&format!("s{j}:\n"));
        }
        if k == c.incr_at {
            s.push_str(&incr);
        }
        let addr = |base: u8, counted: bool| {
            if counted {
                format!("r4 = {}\nr4 += r3\n", base_name(base))
            } else {
                String::new()
            }
        };
        let reg = |base: u8, counted: bool| if counted { "r4" } else { base_name(base) };
        match *it {
            Item::Load { base, counted, off, size, dst } => {
                s.push_str(&addr(base, counted));
                s.push_str(&format!("r{dst} = *({} *)({} {off:+})\n", SIZES[size as usize], reg(base, counted)));
            }
            Item::Store { base, counted, off, size, imm } => {
                s.push_str(&addr(base, counted));
                let value = if imm { "7".to_string() } else { "r5".to_string() };
                s.push_str(&format!("*({} *)({} {off:+}) = {value}\n", SIZES[size as usize], reg(base, counted)));
            }
            Item::Alu(k) => s.push_str(["r0 += r5\n", "r5 ^= r0\n", "r0 *= 3\n", "r5 += r7\n"][k as usize % 4]),
            Item::Exit(v) => s.push_str(&format!("if r5 == {v} goto out\n")),
            Item::Skip(v, _) => s.push_str(&format!("if r5 == {v} goto s{k}\n")),
        }
    }
    for (j, _) in lands(c.body.len()) {
        s.push_str(&format!("s{j}:\n"));
    }
    if c.incr_at >= c.body.len() {
        s.push_str(&incr);
    }
    let op = if c.inclusive { "<=" } else { "<" };
    s.push_str(&format!("if r3 {op} {} goto loop\nout:\nr0 += r3\nexit\n", c.bound));
    s
}

/// Whether the JIT's `jit` result is the interpreter's `interp`. The JIT charges the budget at
/// back-edges and calls, so where the interpreter runs out of budget the JIT may run on: it must
/// then run out too, or end as the interpreter does with budget to spare (`unbounded`). And
/// since a back-edge charges the loop's whole span, also the instructions an `if` inside
/// skipped, the JIT may run out where the interpreter did not: then the JIT given budget to
/// spare (`jit_unbounded`, with what it charged) must end as the interpreter did, having
/// charged more than the budget.
fn agree(
    interp: &Result<RunOutcome, RuntimeError>,
    unbounded: &Result<RunOutcome, RuntimeError>,
    jit: &Result<RunOutcome, RuntimeError>,
    budget_given: u64,
    jit_unbounded: impl FnOnce() -> (Result<RunOutcome, RuntimeError>, u64),
) -> Result<(), String> {
    let budget = |e: &RuntimeError| matches!(e.kind, ErrorKind::BudgetExhausted { .. });
    let same = |a: &Result<RunOutcome, RuntimeError>, b: &Result<RunOutcome, RuntimeError>| match (a, b) {
        (Ok(a), Ok(b)) => a.r0 == b.r0 && a.packet_out == b.packet_out,
        (Err(a), Err(b)) => a == b,
        _ => false,
    };
    let ok = match (interp, jit) {
        (Err(a), Err(b)) if budget(a) && budget(b) => true,
        (Err(a), _) if budget(a) => same(unbounded, jit),
        (_, Err(b)) if budget(b) => {
            let (result, charged) = jit_unbounded();
            same(interp, &result) && (result.is_err() || charged > budget_given)
        }
        _ => same(interp, jit),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("interp {interp:?}\njit    {jit:?}"))
    }
}

/// Seconds since the watchdog started at which the last case began.
static LAST_CASE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Stops the test process when one case runs for over a minute: an unchecked loop copy charges
/// no budget per iteration, so a wrong guard or analysis can loop forever in native code, which
/// nothing else can interrupt. Started once; each case reports its start.
fn watchdog() {
    use std::sync::atomic::Ordering;
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let start = *START.get_or_init(|| {
        let start = std::time::Instant::now();
        std::thread::spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            if start.elapsed().as_secs().saturating_sub(LAST_CASE.load(Ordering::Relaxed)) > 60 {
                // Past the test harness's capture, which would swallow `eprintln!` at exit.
                use std::io::Write;
                let why = b"a counted loop ran for over a minute: the JIT's unchecked copy did not end\n";
                let _ = std::io::stderr().write_all(why);
                std::process::exit(101);
            }
        });
        start
    });
    LAST_CASE.store(start.elapsed().as_secs(), Ordering::Relaxed);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn counted_loops_on_the_jit_run_as_in_the_interpreter(c in case(), fill in any::<u8>()) {
        watchdog();
        let p = llvm(&source(&c));
        let packet: Vec<u8> = (0..c.packet_len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(fill)).collect();
        let input = Input::xdp(packet);
        let options = RunOptions { budget: c.budget, ..RunOptions::default() };
        let interp = Vm::with_options(&p, options.clone()).and_then(|mut vm| vm.run(&input));
        let unbounded = Vm::with_options(&p, RunOptions::default()).and_then(|mut vm| vm.run(&input));
        for checks in [JitChecks::All, JitChecks::Unproven] {
            let jit = JitVm::with_checks(&p, options.clone(), checks).and_then(|mut vm| vm.run(&input));
            let jit_unbounded = || {
                let mut vm = JitVm::with_checks(&p, RunOptions::default(), checks).expect("compiled once already");
                let result = vm.run(&input);
                (result, vm.charged())
            };
            let verdict = agree(&interp, &unbounded, &jit, c.budget, jit_unbounded);
            prop_assert!(verdict.is_ok(), "{:?}: {}\n{}", checks, verdict.unwrap_err(), source(&c));
        }
    }
}

/// The generator reaches the JIT's guarded loops: most generated shapes are recognised (a
/// property over programs the JIT never guards would test nothing new).
#[test]
fn generated_loops_are_guarded() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut guarded, mut with_ifs, n) = (0, 0, 200);
    for _ in 0..n {
        let c = case().new_tree(&mut runner).expect("a case").current();
        let vm = JitVm::new(&llvm(&source(&c))).expect("compiles");
        let counted = !vm.compiled().counted_loops.is_empty();
        guarded += usize::from(counted);
        with_ifs += usize::from(counted && c.body.iter().any(|it| matches!(it, Item::Skip(..))));
    }
    assert!(guarded * 2 > n, "only {guarded} of {n} generated loops are guarded");
    assert!(with_ifs * 10 > n, "only {with_ifs} of {n} generated loops with an `if` inside are guarded");
}
