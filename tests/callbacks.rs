//! `bpf_loop` and `bpf_for_each_map_elem`: the interpreter and the JIT run the callbacks with the
//! kernel's semantics and agree with each other on every result and fault; the kernel backend
//! loads assembled programs with callbacks (it writes their BTF func_info, also inside the r0
//! wrapper) and agrees with both; the C programs of `tests/c/callbacks_*.c` agree on every
//! engine.

mod c_common;
mod interp_common;
use ebpf_lab::engine::{self, EngineOptions};
use ebpf_lab::interp::{ErrorKind, Input, RunOptions, RuntimeError, SkbFields, Vm};
use ebpf_lab::jit::{JitChecks, JitVm};
use ebpf_lab::kernel::{self, KernelInput, KernelProgram, LoadOptions};
use ebpf_lab::program::Program;
use interp_common::llvm;
use std::path::Path;

/// Runs `src` on both engines (twice: a run starts from a clean state) and returns the
/// interpreter's result and the program; the engines must agree on r0 or on the fault.
fn both(src: &str) -> (Result<u64, RuntimeError>, Program) {
    let p = llvm(src);
    let mut interp = Vm::new(&p).unwrap();
    let mut jit = JitVm::new(&p).unwrap();
    let mut first = None;
    for _ in 0..2 {
        let a = interp.run(&Input::mem(vec![])).map(|o| o.r0);
        let b = jit.run(&Input::mem(vec![])).map(|o| o.r0);
        match (&a, &b) {
            (Err(x), Err(y)) => assert_eq!((&x.kind, x.index), (&y.kind, y.index), "interpreter vs JIT"),
            _ => assert_eq!(a, b, "interpreter vs JIT"),
        }
        assert_eq!(*first.get_or_insert_with(|| a.clone()), a, "second run");
    }
    (first.unwrap(), p)
}

/// `bpf_loop(n, add, &sum, flags)` where `add` adds each index to `sum` and stops after index
/// `stop`; returns `calls << 32 | sum`.
fn sum_loop(n: &str, stop: u32, flags: u32) -> String {
    format!(
        "r1 = 0\n*(u64 *)(r10 - 8) = r1\nr1 = {n}\nr2 = func(add) ll\nr3 = r10\nr3 += -8\nr4 = {flags}\n\
         call bpf_loop\nr1 = *(u64 *)(r10 - 8)\nr0 <<= 32\nr0 += r1\nexit\n\
         add:\nr3 = *(u64 *)(r2 + 0)\nr3 += r1\n*(u64 *)(r2 + 0) = r3\nr0 = 0\nif r1 < {stop} goto +1\nr0 = 1\nexit\n"
    )
}

#[test]
fn bpf_loop_calls_back_until_told_to_stop_and_counts_the_calls() {
    // Indices 0..=6, then the callback says stop: 7 calls, sum 21.
    assert_eq!(both(&sum_loop("10", 6, 0)).0, Ok(7 << 32 | 21));
    // Never told to stop: all 5 calls.
    assert_eq!(both(&sum_loop("5", 100, 0)).0, Ok(5 << 32 | 10));
    // No call at all.
    assert_eq!(both(&sum_loop("0", 100, 0)).0, Ok(0));
    // nr_loops is 32 bits: the high half is ignored.
    assert_eq!(both(&sum_loop("0x100000003 ll", 100, 0)).0, Ok(3 << 32 | 3));
}

#[test]
fn bpf_loop_refuses_flags_and_too_many_loops_without_calling() {
    let e2big = (-7i64 as u64) << 32;
    let einval = (-22i64 as u64) << 32;
    assert_eq!(both(&sum_loop("8388609", 100, 0)).0, Ok(e2big));
    assert_eq!(both(&sum_loop("3", 100, 1)).0, Ok(einval));
}

/// `bpf_for_each_map_elem` over map `m` (declared by `decl`), after storing 10 * (i + 1) at keys
/// 0..count: the callback adds key + value into the context; returns `visited << 32 | total`.
fn each(decl: &str, key_size: u32, count: u32, stop_at_key: u32) -> String {
    let load_key = if key_size == 8 { "r5 = *(u64 *)(r2 + 0)" } else { "r5 = *(u32 *)(r2 + 0)" };
    let mut src = format!("{decl}\nr6 = 0\n");
    src.push_str(&format!(
        "fill:\n*(u64 *)(r10 - 8) = r6\nr7 = r6\nr7 += 1\nr7 *= 10\n*(u64 *)(r10 - 16) = r7\n\
         r1 = map(m) ll\nr2 = r10\nr2 += -8\nr3 = r10\nr3 += -16\nr4 = 0\ncall bpf_map_update_elem\n\
         r6 += 1\nif r6 < {count} goto fill\n\
         r1 = 0\n*(u64 *)(r10 - 24) = r1\nr1 = map(m) ll\nr2 = func(visit) ll\nr3 = r10\nr3 += -24\nr4 = 0\n\
         call bpf_for_each_map_elem\nr1 = *(u64 *)(r10 - 24)\nr0 <<= 32\nr0 += r1\nexit\n\
         visit:\n{load_key}\nr1 = *(u64 *)(r3 + 0)\nr1 += r5\nr0 = *(u64 *)(r4 + 0)\nr0 += r1\n\
         *(u64 *)(r4 + 0) = r0\nr0 = 0\nif r5 != {stop_at_key} goto +1\nr0 = 1\nexit\n"
    ));
    src
}

#[test]
fn for_each_map_elem_visits_arrays_hashes_and_per_cpu_values() {
    // An array visits every index, set or not: keys 0..3 hold 10, 20, 30, then 0 at 3 and 4.
    let array = ".map m array key=4 value=8 max=5";
    assert_eq!(both(&each(array, 4, 3, 99)).0, Ok(5 << 32 | (60 + 10)));
    // Stopping at key 1 counts the element that said stop.
    assert_eq!(both(&each(array, 4, 3, 1)).0, Ok(2 << 32 | (10 + 20 + 1)));
    let percpu = ".map m percpu_array key=4 value=8 max=3";
    assert_eq!(both(&each(percpu, 4, 3, 99)).0, Ok(3 << 32 | (60 + 3)));
    // A hash visits its elements only.
    let hash = ".map m hash key=8 value=8 max=16";
    assert_eq!(both(&each(hash, 8, 4, 99)).0, Ok(4 << 32 | (100 + 6)));
    let percpu_hash = ".map m percpu_hash key=8 value=8 max=16";
    assert_eq!(both(&each(percpu_hash, 8, 2, 99)).0, Ok(2 << 32 | (30 + 1)));
    let lru = ".map m lru_hash key=8 value=8 max=16";
    assert_eq!(both(&each(lru, 8, 3, 99)).0, Ok(3 << 32 | (60 + 3)));
}

#[test]
fn for_each_map_elem_hands_out_writable_values_and_read_only_keys() {
    // The callback doubles each value in place.
    let src = ".map m array key=4 value=8 max=3\n\
        r1 = map(m) ll\nr2 = func(double) ll\nr3 = 0\nr4 = 0\ncall bpf_for_each_map_elem\n\
        r1 = 0\n*(u32 *)(r10 - 4) = r1\nr1 = map(m) ll\nr2 = r10\nr2 += -4\ncall bpf_map_lookup_elem\n\
        if r0 == 0 goto +2\nr0 = *(u64 *)(r0 + 0)\nexit\nr0 = 99\nexit\n\
        double:\nr1 = *(u32 *)(r2 + 0)\nr1 += 21\n*(u64 *)(r3 + 0) = r1\nr0 = 0\nexit\n";
    assert_eq!(both(src).0, Ok(21));
    // Writing the key is a fault, the same on both engines, at the store.
    let src = ".map m array key=4 value=8 max=3\n\
        r1 = map(m) ll\nr2 = func(bad) ll\nr3 = 0\nr4 = 0\ncall bpf_for_each_map_elem\nexit\n\
        bad:\nr1 = 1\n*(u32 *)(r2 + 0) = r1\nr0 = 0\nexit\n";
    let (r, p) = both(src);
    let e = r.unwrap_err();
    assert_eq!(e.index, Some(p.insns.len() - 3), "{e}");
    assert!(e.to_string().contains("read-only key of map `m`"), "{e}");
}

#[test]
fn callbacks_nest_and_count_as_frames() {
    // Each of 4 outer calls runs 3 inner ones adding their index: 4 * (0 + 1 + 2).
    let nested = "r1 = 0\n*(u64 *)(r10 - 8) = r1\nr1 = 4\nr2 = func(outer) ll\nr3 = r10\nr3 += -8\nr4 = 0\n\
        call bpf_loop\nr0 = *(u64 *)(r10 - 8)\nexit\n\
        outer:\nr1 = 3\nr3 = r2\nr2 = func(inner) ll\nr4 = 0\ncall bpf_loop\nr0 = 0\nexit\n\
        inner:\nr3 = *(u64 *)(r2 + 0)\nr3 += r1\n*(u64 *)(r2 + 0) = r3\nr0 = 0\nexit\n";
    assert_eq!(both(nested).0, Ok(12));
    // A callback that calls itself back through bpf_loop runs out of frames on both engines.
    let deep = "r1 = 1\nr2 = func(again) ll\nr3 = 0\nr4 = 0\ncall bpf_loop\nexit\n\
        again:\nr1 = 1\nr2 = func(again) ll\nr3 = 0\nr4 = 0\ncall bpf_loop\nr0 = 0\nexit\n";
    let e = both(deep).0.unwrap_err();
    assert!(matches!(e.kind, ErrorKind::CallDepth { .. }), "{e}");
    // The callee-saved registers of the caller survive the callbacks.
    let saved = "r6 = 5\nr7 = 6\nr1 = 3\nr2 = func(clobber) ll\nr3 = 0\nr4 = 0\ncall bpf_loop\n\
        r0 = r6\nr0 *= r7\nexit\nclobber:\nr6 = 0\nr7 = 0\nr0 = 0\nexit\n";
    assert_eq!(both(saved).0, Ok(30));
}

#[test]
fn the_budget_runs_out_inside_a_callback_on_both_engines() {
    let p = llvm(&sum_loop("8000000", u32::MAX, 0));
    let options = RunOptions { budget: 10_000, ..RunOptions::default() };
    let a = Vm::with_options(&p, options.clone()).unwrap().run(&Input::mem(vec![])).unwrap_err();
    let b = JitVm::with_options(&p, options).unwrap().run(&Input::mem(vec![])).unwrap_err();
    assert!(matches!(a.kind, ErrorKind::BudgetExhausted { .. }), "{a}");
    assert!(matches!(b.kind, ErrorKind::BudgetExhausted { .. }), "{b}");
}

#[test]
fn the_kernel_loads_assembled_callbacks_and_agrees() {
    if !kernel::require_or_skip("the_kernel_loads_assembled_callbacks_and_agrees") {
        return;
    }
    for (src, want) in [
        (sum_loop("10", 6, 0), 7 << 32 | 21),
        (sum_loop("8388609", 100, 0), (-7i64 as u64) << 32),
        (sum_loop("3", 100, 1), (-22i64 as u64) << 32),
        (each(".map m hash key=8 value=8 max=16", 8, 4, 99), 4 << 32 | 106),
        (each(".map m array key=4 value=8 max=5", 4, 3, 1), 2 << 32 | 31),
    ] {
        // As a syscall program (verified as written, run in the wrapper) and as a mem program
        // (verified and run in the wrapper): both need the BTF records shifted past it.
        for prog_type in [".prog syscall\n", ".prog mem\n"] {
            let p = llvm(&format!("{prog_type}{src}"));
            let mut k = KernelProgram::load(&p, &LoadOptions::default()).unwrap();
            assert!(k.verdict().error.is_none(), "{prog_type}{src}\n{}", k.verdict().log);
            let run = k.run(&p, &KernelInput { ctx: None, packet: None }).unwrap();
            assert_eq!((run.r0, run.r0_bits), (want, 64), "{prog_type}{src}");
            let v = ebpf_lab::verifier::verify(&p, &Default::default());
            assert!(v.accepted(), "{prog_type}{src}\n{:?}", v.error);
        }
    }
}

#[test]
fn the_c_callback_programs_agree_on_every_engine() {
    if !c_common::clang_or_skip("the_c_callback_programs_agree_on_every_engine")
        || !kernel::require_or_skip("the_c_callback_programs_agree_on_every_engine")
    {
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c");
    let packet = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/udp.pkt")).unwrap();
    let mut runs = 0;
    for name in ["callbacks_xdp", "callbacks_tc"] {
        let o = c_common::compile_c(name, &std::fs::read_to_string(dir.join(format!("{name}.c"))).unwrap());
        let p = ebpf_lab::elf::program_from_elf(name, &std::fs::read(o).unwrap(), None).unwrap();
        assert!(ebpf_lab::verifier::verify(&p, &Default::default()).accepted(), "{name}");
        let inputs: Vec<Input> = (0..4)
            .map(|k| {
                // Packets of several lengths reach the different lengths' keys and stop rules.
                let mut pkt = packet.clone();
                pkt.extend(std::iter::repeat_n(k as u8, 20 * k));
                if name.ends_with("xdp") {
                    Input::xdp(pkt)
                } else {
                    Input::skb(pkt, SkbFields::default())
                }
            })
            .collect();
        let run = RunOptions { ncpus: kernel::possible_cpus() as u32, ..RunOptions::default() };
        let opts = EngineOptions { run, ..EngineOptions::default() };
        let mut engines: Vec<_> =
            ["interp", "jit", "kernel"].iter().map(|e| engine::open(e, &p, &opts, &inputs[0]).unwrap()).collect();
        // Twice over the inputs: the maps carry over, so the hashes age and the stop rules fire.
        for input in inputs.iter().chain(&inputs) {
            let outs: Vec<_> = engines.iter_mut().map(|e| e.run(input).unwrap()).collect();
            let mask = if outs[2].r0_bits == 64 { u64::MAX } else { (1 << outs[2].r0_bits) - 1 };
            for (e, o) in ["interp", "jit"].iter().zip(&outs) {
                assert_eq!(o.outcome.r0 & mask, outs[2].outcome.r0 & mask, "{name}: {e} r0");
            }
            for m in &p.maps {
                let sorted = |mut e: Vec<(Vec<u8>, Vec<u8>)>| {
                    e.sort();
                    e
                };
                let all: Vec<_> = engines.iter().map(|e| e.map_entries(&m.name).map(sorted)).collect();
                assert_eq!(all[0], all[2], "{name}: interp vs kernel, map {}", m.name);
                assert_eq!(all[1], all[2], "{name}: jit vs kernel, map {}", m.name);
            }
            runs += 1;
        }
    }
    assert_eq!(runs, 16);
}

/// A C callback declared without `static` is a global function, which the kernel refuses to call
/// back; ebpf-lab's verifier reads the linkage from the object's BTF and says the same.
const GLOBAL_CALLBACK: &str = r#"
#include "lab.h"
static long (*bpf_loop)(__u32 nr, void *fn, void *ctx, __u64 flags) = (void *)BPF_FUNC_loop;
long add_index(__u32 i, void *ctx) { *(__u64 *)ctx += i; return 0; }
SEC("syscall")
int sum(void *ctx) { __u64 total = 0; bpf_loop(5, add_index, &total, 0); return total; }
char LICENSE[] SEC("license") = "GPL";
"#;

#[test]
fn a_callback_must_be_static() {
    if !c_common::clang_or_skip("a_callback_must_be_static") {
        return;
    }
    let o = c_common::compile_c("global_callback", GLOBAL_CALLBACK);
    let p = ebpf_lab::elf::program_from_elf("global_callback", &std::fs::read(o).unwrap(), None).unwrap();
    let v = ebpf_lab::verifier::verify(&p, &Default::default());
    assert_eq!(v.error.map(|e| e.message).as_deref(), Some("callback function not static"));
    let static_one = GLOBAL_CALLBACK.replace("\nlong add_index", "\nstatic long add_index");
    let o = c_common::compile_c("static_callback", &static_one);
    let p = ebpf_lab::elf::program_from_elf("static_callback", &std::fs::read(o).unwrap(), None).unwrap();
    assert!(ebpf_lab::verifier::verify(&p, &Default::default()).accepted());
    if !kernel::require_or_skip("a_callback_must_be_static (kernel)") {
        return;
    }
    let o = c_common::compile_c("global_callback", GLOBAL_CALLBACK);
    let p = ebpf_lab::elf::program_from_elf("global_callback", &std::fs::read(o).unwrap(), None).unwrap();
    let k = KernelProgram::load(&p, &LoadOptions { log_level: 1, ..LoadOptions::default() }).unwrap();
    assert!(k.verdict().log.contains("callback function not static"), "{}", k.verdict().log);
}

/// The debugger's call stack counts a callback's frame, from the helper call that made it, and
/// keeps it while the helper calls the callback again.
#[test]
fn the_debugger_shows_the_callback_frame() {
    let p = llvm(&sum_loop("3", 100, 0));
    let mut s = ebpf_lab::debug::Session::new(&p, Vm::new(&p).unwrap(), Input::mem(vec![]));
    // Into the callback: the 8 main instructions up to and including `call bpf_loop` (slot 8).
    s.command("step 8");
    assert_eq!(s.calls_at(s.pos), vec![8]);
    // Through its first exit (6 instructions), which calls it again.
    s.command("step 6");
    assert_eq!(s.calls_at(s.pos), vec![8]);
    // Through the last call's exit, back in the main program.
    s.command("step 12");
    assert_eq!(s.calls_at(s.pos), Vec::<usize>::new());
}

#[test]
fn a_callback_s_own_stack_is_its_frame_when_proved_accesses_skip_their_check() {
    // XDP, so `--jit-checks unproven` skips the checks of proved accesses to the function's own
    // frame: the callback's `r10` must address its frame, not its caller's.
    let src = ".prog xdp\nr1 = 7\n*(u64 *)(r10 - 8) = r1\nr1 = 3\nr2 = func(cb) ll\nr3 = 0\nr4 = 0\ncall bpf_loop\n\
        r1 = *(u64 *)(r10 - 8)\nr0 *= 100\nr0 += r1\nexit\n\
        cb:\nr2 = 99\n*(u64 *)(r10 - 8) = r2\nr0 = *(u64 *)(r10 - 8)\nr0 = 0\nexit\n";
    let p = llvm(src);
    let input = Input::xdp(vec![0; 64]);
    let want = Vm::new(&p).unwrap().run(&input).unwrap().r0;
    assert_eq!(want, 307, "3 calls, and the caller's slot kept its 7");
    for checks in [JitChecks::All, JitChecks::Unproven] {
        let mut jit = JitVm::with_checks(&p, RunOptions::default(), checks).unwrap();
        for _ in 0..2 {
            assert_eq!(jit.run(&input).unwrap().r0, want, "{checks:?}");
        }
    }
}
