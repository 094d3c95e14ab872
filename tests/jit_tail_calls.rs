//! Tail calls made from bpf-to-bpf subprograms, on the interpreter and the JIT: the target
//! replaces the calling frame, so its `exit` returns to that frame's caller, at every depth.

mod interp_common;
use ebpf_lab::interp::{ErrorKind, Input, RuntimeError, Vm};
use ebpf_lab::jit::JitVm;
use interp_common::llvm;

const PROGS: &str = ".map progs prog_array key=4 value=4 max=4\n";

/// Runs `main` (LLVM syntax, with the `progs` map) on both engines with `targets` in the
/// slots 0, 1, ... of `progs`, twice each (a run starts from a clean state); checks the engines
/// agree and returns the interpreter's result.
fn both(main: &str, targets: &[&str]) -> Result<u64, RuntimeError> {
    let main = llvm(&format!("{PROGS}{main}"));
    let mut interp = Vm::new(&main).unwrap();
    let mut jit = JitVm::new(&main).unwrap();
    for (slot, t) in targets.iter().enumerate() {
        let t = llvm(&format!("{PROGS}{t}"));
        let (a, b) = (interp.add_program(&t).unwrap(), jit.add_program(&t).unwrap());
        let key = (slot as u32).to_le_bytes();
        interp.map_mut("progs").unwrap().user_update(&key, &a.to_le_bytes(), 0).unwrap();
        jit.map_mut("progs").unwrap().user_update(&key, &b.to_le_bytes(), 0).unwrap();
    }
    let mut first = None;
    for _ in 0..2 {
        let a = interp.run(&Input::mem(vec![])).map(|o| o.r0);
        let b = jit.run(&Input::mem(vec![])).map(|o| o.r0);
        assert_eq!(a, b, "interpreter vs JIT");
        assert_eq!(*first.get_or_insert_with(|| a.clone()), a, "second run");
    }
    first.unwrap()
}

/// A tail call to slot 0 that falls through to `r0 = 99` when it fails.
const TAIL: &str = "r2 = map(progs) ll\nr3 = 0\ncall 12\nr0 = 99\nexit\n";

/// A main program that calls `depth` nested subprograms; the deepest makes the tail call (the
/// main program itself when `depth` is 0). Each caller adds 10 to r0 after its call returns.
fn tail_call_at_depth(depth: usize) -> String {
    let mut src = "r0 = 0\n".to_string();
    for i in 1..=depth {
        src.push_str(&format!("call f{i}\nr0 += 10\nexit\nf{i}:\n"));
    }
    src + TAIL
}

#[test]
fn the_target_of_a_subprograms_tail_call_returns_to_the_subprograms_caller() {
    let main = "r0 = 0\nr0 = 0\ncall sub\nr0 += 100\nexit\nsub:\nr2 = map(progs) ll\nr3 = 0\ncall 12\nexit\n";
    assert_eq!(both(main, &["r0 = 2\nexit\n"]), Ok(102));
}

#[test]
fn tail_calls_from_every_frame_depth_agree() {
    for depth in 0..8 {
        let main = tail_call_at_depth(depth);
        let want = 2 + 10 * depth as u64;
        assert_eq!(both(&main, &["r0 = 2\nexit\n"]), Ok(want), "plain target, depth {depth}");
        // A target with a call of its own runs at the depth of the frame it replaced: at depth 7
        // its call is the ninth frame.
        let r = both(&main, &["r0 = 1\ncall g\nexit\ng:\nr0 += 1\nexit\n"]);
        match depth {
            7 => assert!(matches!(r, Err(RuntimeError { kind: ErrorKind::CallDepth { .. }, .. })), "{r:?}"),
            _ => assert_eq!(r, Ok(want), "calling target, depth {depth}"),
        }
        // The target's own frame pointer and stack are those of the replaced frame.
        let stack = "*(u64 *)(r10 - 8) = 5\nr0 = *(u64 *)(r10 - 8)\nexit\n";
        assert_eq!(both(&main, &[stack]), Ok(5 + 10 * depth as u64), "stack target, depth {depth}");
    }
}

#[test]
fn tail_calls_chain_from_a_target_that_replaced_a_subprogram() {
    // The target tail-calls slot 1 from its first frame, and slot 1 returns to main's call.
    let main = "call sub\nr0 += 100\nexit\nsub:\nr2 = map(progs) ll\nr3 = 0\ncall 12\nr0 = 99\nexit\n";
    let first = "r2 = map(progs) ll\nr3 = 1\ncall 12\nr0 = 98\nexit\n";
    assert_eq!(both(main, &[first, "r0 = 7\nexit\n"]), Ok(107));
    // The target tail-calls again from a subprogram of its own.
    let first = "call s\nr0 += 1000\nexit\ns:\nr2 = map(progs) ll\nr3 = 1\ncall 12\nr0 = 98\nexit\n";
    assert_eq!(both(main, &[first, "r0 = 7\nexit\n"]), Ok(1107));
}

#[test]
fn the_tail_call_limit_holds_from_a_subprogram() {
    // r6 counts the targets run: the 34th tail call fails and falls through.
    let main = "r6 = 0\ncall sub\nr0 += 100\nexit\nsub:\nr6 = 0\nr2 = map(progs) ll\nr3 = 0\ncall 12\nr0 = 99\nexit\n";
    let target = "r6 += 1\nr2 = map(progs) ll\nr3 = 0\ncall 12\nr0 = r6\nexit\n";
    assert_eq!(both(main, &[target]), Ok(133));
}

#[test]
fn a_fault_in_the_target_names_the_target_and_its_instruction() {
    let main = "call sub\nexit\nsub:\nr2 = map(progs) ll\nr3 = 0\ncall 12\nexit\n";
    let e = both(main, &["r0 = 0\nr1 = 0\nr0 = *(u64 *)(r1 + 0)\nexit\n"]).unwrap_err();
    assert_eq!(e.index, Some(2), "{e}");
}

#[test]
fn a_runaway_loop_in_the_nested_target_ends_the_run_with_the_budget_error() {
    let main = "call sub\nr0 += 100\nexit\nsub:\nr2 = map(progs) ll\nr3 = 0\ncall 12\nexit\n";
    let e = both(main, &["r0 = 0\nl:\nr0 += 1\ngoto l\n"]).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::BudgetExhausted { .. }), "{e}");
}

#[test]
fn callx_reaches_bpf_tail_call_like_call_12() {
    // `callx r6` with r6 = 12 is a tail call too: the target runs at once and never returns.
    let main = "r6 = 12\nr2 = map(progs) ll\nr3 = 0\ncallx r6\nr0 = 99\nexit\n";
    assert_eq!(both(main, &["r0 = 2\nexit\n"]), Ok(2));
    // From a subprogram, the target returns to the subprogram's caller, as with `call 12`.
    let main = "call sub\nr0 += 100\nexit\nsub:\nr6 = 12\nr2 = map(progs) ll\nr3 = 0\ncallx r6\nr0 = 99\nexit\n";
    assert_eq!(both(main, &["r0 = 3\nexit\n"]), Ok(103));
}
